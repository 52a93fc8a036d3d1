using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// The lines waiting claims stand in (<see cref="ClaimWaiters"/>): a job wakes only the lines that can run it,
/// and one key's claims hold a bounded number of lines, so it cannot multiply the claim attempts of every job.
/// </summary>
public sealed class ClaimLinesTests
{
    private readonly ClaimWaiters waiters = new();

    [Fact]
    public void AJobWakesOnlyTheLinesWhoseClaimsCanRunIt()
    {
        var cpu = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264]);
        var sharedCpu = waiters.Enter(MediaKinds.Shared, [EncoderCatalog.Libx264]);
        var original = waiters.Enter();
        var gpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc", ClaimRequest.CopyCapability]);
        var storeCpu = waiters.Enter(MediaKinds.Store, [EncoderCatalog.Libx264]);

        Enqueued(Job(stored: false, needsEncoder: null));
        Assert.Equal([true, true, true, false, false], Woken(cpu, sharedCpu, original, gpu, storeCpu));

        foreach (var ticket in new[] { cpu, sharedCpu, original }) Spent(ticket);
        var nextCpu = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264]);
        Enqueued(Job(stored: true, needsEncoder: "hevc_nvenc"));
        Assert.Equal([true, false, false], Woken(gpu, storeCpu, nextCpu));

        Enqueued(Job(stored: true, needsEncoder: null));
        Assert.Equal([true, true], Woken(storeCpu, nextCpu));
    }

    [Fact]
    public void AnotherHostsJobWakesOnlyTheLinesWhoseClaimsCanRunIt()
    {
        using var cpu = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264]);
        using var gpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc"]);
        // The job's JSON as the other host wrote it to the shared change feed.
        var data = ChangeNotice.Of(JobChange.Moved(null, Job(stored: true, needsEncoder: "hevc_nvenc"), ChangeCause.Enqueue)).Data;

        ((IJobChangeListener)waiters).Announced(1, 1, new ChangeNotice("created", data, null, JobState.Pending, ChangeCause.Enqueue), fromOtherHost: true);

        Assert.Equal([false, true], Woken(cpu, gpu));
    }

    [Fact]
    public void OneKeysClaimsWaitInAtMostItsShareOfLinesAndTheRestInTheSharedLine()
    {
        // Each lists libx264 and one more: every one of them can run a plain job.
        var tickets = Enumerable.Range(0, ClaimWaiters.MaxLinesPerKey + 3)
            .Select(i => waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264, $"made-up-{i}"], apiKey: "greedy"))
            .ToList();
        using var other = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264, "made-up-0"], apiKey: "other");

        Enqueued(Job(stored: false, needsEncoder: null));
        // A line each for the first MaxLinesPerKey, one wake in the shared line for the rest; the other key's claim shares a line.
        Assert.Equal(ClaimWaiters.MaxLinesPerKey + 1, tickets.Count(ticket => ticket.Woken.IsCompleted));
        Assert.Equal([true, true, false, false], Woken(tickets[0], tickets[ClaimWaiters.MaxLinesPerKey], tickets[^2], tickets[^1]));
        Assert.False(other.Woken.IsCompleted);

        // In the shared line a job wakes the first claim that can run it, wherever it stands.
        Enqueued(Job(stored: false, needsEncoder: $"made-up-{ClaimWaiters.MaxLinesPerKey + 2}"));
        Assert.Equal([false, true], Woken(tickets[^2], tickets[^1]));

        // Claims that stop waiting give their lines back to the key.
        foreach (var ticket in tickets) Spent(ticket);
        Assert.Equal(1, waiters.Count);
        var again = Enumerable.Range(0, ClaimWaiters.MaxLinesPerKey)
            .Select(i => waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264, $"again-{i}"], apiKey: "greedy"))
            .ToList();
        Enqueued(Job(stored: false, needsEncoder: null));
        Assert.All(again, ticket => Assert.True(ticket.Woken.IsCompleted));
    }

    [Fact]
    public void AWakeNotSpentInTheSharedLineGoesToTheNextClaimThatCanRunItsJob()
    {
        var tickets = Enumerable.Range(0, ClaimWaiters.MaxLinesPerKey)
            .Select(i => waiters.Enter(MediaKinds.Any, [$"made-up-{i}"], apiKey: "k"))
            .ToList();
        var gpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc"], apiKey: "k");
        using var cpu = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264], apiKey: "k");
        using var otherGpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc", "made-up-0"], apiKey: "k");

        Enqueued(Job(stored: false, needsEncoder: "hevc_nvenc"));
        Assert.Equal([true, false, false], Woken(gpu, cpu, otherGpu));

        gpu.Dispose(); // left without trying: the wake is the next claim's that can run the job
        Assert.Equal([false, true], Woken(cpu, otherGpu));
        foreach (var ticket in tickets) ticket.Dispose();
    }

    private void Enqueued(Job job) =>
        ((IJobChangeListener)waiters).Committed([JobChange.Moved(null, job, ChangeCause.Enqueue)]);

    private static Job Job(bool stored, string? needsEncoder) =>
        new() { Id = 1, FileName = "a.mkv", UploadId = stored ? "0123456789abcdef0123456789abcdef" : null, NeedsEncoder = needsEncoder };

    private static bool[] Woken(params ClaimWaiters.Ticket[] tickets) => tickets.Select(ticket => ticket.Woken.IsCompleted).ToArray();

    private static void Spent(ClaimWaiters.Ticket ticket)
    {
        ticket.Spend();
        ticket.Dispose();
    }
}
