using VideoEncode.Api.Changes;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// On every host, at every round: wakes one of its own waiting claims for each retry backoff that
/// ended since the last round (a read, so each host does it for its own waiters rather than hear it
/// from the leader).
/// </summary>
public sealed class BackoffWakeups(IJobStore store, JobChangeSink changes, TimeProvider clock) : IUpkeepTask
{
    private long checkedUpTo = clock.GetUtcNow().ToUnixTimeSeconds();

    public async Task RunAsync(UpkeepRound round)
    {
        var upTo = round.Now.ToUnixTimeSeconds();
        if (upTo <= checkedUpTo) return;
        var ended = await store.BackoffsEndedAsync(checkedUpTo, upTo);
        checkedUpTo = upTo;
        if (ended > 0) changes.BackoffsEnded(ended);
    }
}
