using VideoEncode.Api.Events;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Returns jobs whose lease lapsed — their worker died or lost touch — to the queue (or fails or
/// cancels them; see <see cref="JobStore.ExpireLeasesAsync"/>) without anyone having to ask,
/// checking once a second. At start-up it also re-arms the wake-up for jobs in retry backoff.
/// </summary>
public sealed class LeaseKeeper(JobStore store, ClaimSignal claimable, JobChanges changes, ILogger<LeaseKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (await store.NextBackoffEndAsync() is { } next) claimable.PulseAt(next);
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                foreach (var change in await store.ExpireLeasesAsync())
                    changes.Moved(change.Job, change.From, "lease expiry");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed sweep (disk full, say) is retried on the next tick; the host keeps serving.
                logger.LogError(e, "Could not expire leases; trying again in {Interval}.", Interval);
            }
        }
    }
}
