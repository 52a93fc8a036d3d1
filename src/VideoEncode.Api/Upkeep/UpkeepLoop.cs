using Microsoft.Extensions.Options;
using VideoEncode.Api.Cluster;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// The queue's upkeep, a round every LeaseSweepSeconds (one by default) on the injected clock: asks
/// <see cref="ILeadership"/> whether this host leads (on a shared store asking renews the lead; on
/// SQLite the one host leads), then runs each <see cref="IUpkeepTask"/> in turn — lapsed leases
/// (<see cref="LeaseExpiry"/>), ended backoffs (<see cref="BackoffWakeups"/>), and the leader's chores
/// once a minute (<see cref="RecordForgetting"/>, <see cref="JobRetention"/>, <see cref="UploadSweeper"/>).
/// A failed round is logged and the next tick tries again; the host keeps serving. At shutdown the
/// lead is handed over.
/// </summary>
public sealed class UpkeepLoop(ILeadership leadership, IEnumerable<IUpkeepTask> tasks, TimeProvider clock, IOptions<QueueOptions> options,
    ILogger<UpkeepLoop> logger) : BackgroundService
{
    private readonly IReadOnlyList<IUpkeepTask> tasks = tasks.ToList();
    private bool lastRoundFailed;

    /// <summary>One round of upkeep (the tests run rounds by hand, with a sweep interval too long to tick).</summary>
    public async Task RunRoundAsync()
    {
        var now = clock.GetUtcNow();
        var round = new UpkeepRound(now, await leadership.LeadsAsync(), lastRoundFailed);
        lastRoundFailed = false;
        foreach (var task in tasks) await task.RunAsync(round);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.LeaseSweepSeconds));
        using var timer = new PeriodicTimer(interval, clock);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                await RunRoundAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lastRoundFailed = true;
                // A failed sweep (disk full, say) is retried on the next tick; the host keeps serving.
                logger.LogError(e, "The queue's upkeep failed; trying again in {Interval}.", interval);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await leadership.ResignAsync();
        }
        catch (Exception e)
        {
            // The lead then lapses on its own within LeaderLeaseSeconds.
            logger.LogWarning(e, "Could not hand over the lead of the queue's upkeep at shutdown.");
        }
    }
}
