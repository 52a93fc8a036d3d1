using VideoEncode.Api.Jobs.Heartbeats;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Jobs;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Which beats LiveClaims answers from memory, by the lease's length and what is left of it: half the
/// lease, and for a short lease enough for the beat after an unanswered one to find it alive (a worker
/// waits up to half its lease, at most 10 s, for an answer, then beats a second later).
/// </summary>
[Trait("Store", TestStore.RunOnce)] // no store involved
public sealed class LeaseRenewalRuleTests
{
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);

    [Theory]
    [InlineData(3, 3, false)]   // 5 s or less: every beat renews
    [InlineData(5, 5, false)]
    [InlineData(6, 6, true)]
    [InlineData(6, 5, false)]
    [InlineData(8, 7, true)]
    [InlineData(8, 6, false)]   // 4 s to wait for an answer and 2 more
    [InlineData(20, 13, true)]
    [InlineData(20, 12, false)] // 10 s to wait for an answer and 2 more
    [InlineData(24, 13, true)]
    [InlineData(24, 12, false)] // from here on: half the lease
    [InlineData(60, 31, true)]
    [InlineData(60, 30, false)]
    [InlineData(60, 61, false)] // longer than this host's lease: the store cuts it
    public void ABeatIsAnsweredFromMemoryOnlyWhileTheLeaseIsNotDueForRenewal(int lease, int left, bool fromMemory)
    {
        var live = new LiveClaims(clock, Options.Create(new QueueOptions { LeaseSeconds = lease }));
        var job = new Job { Id = 7, Status = JobStatus.InProgress, LeaseExpiresAt = clock.GetUtcNow().ToUnixTimeSeconds() + left };
        live.Remember(job, "token", live.Now());
        Assert.Equal(fromMemory, live.TryBeat(job.Id, new Heartbeat("token", Progress: 50)) is not null);
    }
}
