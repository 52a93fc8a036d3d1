using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Events;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Returns jobs whose lease lapsed — their worker died or lost touch — to the queue (or fails or
/// cancels them; see <see cref="JobStore.ExpireLeasesAsync"/>) without anyone having to ask,
/// checking every LeaseSweepSeconds (one by default). At start-up it also re-arms the wake-up for
/// jobs in retry backoff.
/// </summary>
public sealed class LeaseKeeper(JobStore store, ClaimSignal claimable, JobChanges changes, IOptions<QueueOptions> options,
    ILogger<LeaseKeeper> logger) : BackgroundService
{
    /// <summary>One sweep: expire what has lapsed and announce each change.</summary>
    public async Task SweepAsync()
    {
        foreach (var change in await store.ExpireLeasesAsync())
            changes.Moved(change.Job, change.From, JobChanges.LeaseExpiry);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (await store.NextBackoffEndAsync() is { } next) claimable.PulseAt(next);
        var interval = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.LeaseSweepSeconds));
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                await SweepAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed sweep (disk full, say) is retried on the next tick; the host keeps serving.
                logger.LogError(e, "Could not expire leases; trying again in {Interval}.", interval);
            }
        }
    }
}
