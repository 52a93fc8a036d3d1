using VideoEncode.Api.Changes;
using VideoEncode.Api.Cluster;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Webhooks;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The queue's upkeep, every LeaseSweepSeconds (one by default). On the leading host only
/// (<see cref="ILeadership"/>; on SQLite the one host leads): returns jobs whose lease lapsed —
/// their worker died or lost touch — to the queue (or fails or cancels them; see
/// <see cref="IJobStore.ExpireLeasesAsync"/>), and every minute forgets old records (webhook deliveries too) and deletes
/// jobs past their retention (<see cref="JobRetention"/>) and sweeps the media store (<see cref="UploadSweeper"/>) — each
/// every tick while a backlog lasts. On every
/// host: wakes one of its own waiting claims for each retry backoff that ended since the last tick
/// (a read, so each host does it for its own waiters rather than hear it from the leader).
///
/// Leases get a grace period after the host starts, and again after the database could not be
/// reached: for one lease length no lease is swept, so a worker that kept encoding while the host
/// or its database was down — its heartbeats failing — has the time to renew its lease before
/// anyone calls it dead.
/// </summary>
public sealed class LeaseKeeper : BackgroundService
{
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromMinutes(1);

    private readonly IJobStore store;
    private readonly JobRetention retention;
    private readonly UploadSweeper uploads;
    private readonly WebhookStore webhooks;
    private readonly ILeadership leadership;
    private readonly JobChangeSink changes;
    private readonly TimeProvider clock;
    private readonly QueueOptions options;
    private readonly ILogger<LeaseKeeper> logger;
    private DateTimeOffset graceEnds;
    private bool lastRoundFailed;
    private long backoffsCheckedUpTo;
    private DateTimeOffset nextCleanup;
    private DateTimeOffset nextRetention;
    private DateTimeOffset nextUploadSweep;

    public LeaseKeeper(IJobStore store, JobRetention retention, UploadSweeper uploads, WebhookStore webhooks, ILeadership leadership, JobChangeSink changes, TimeProvider clock, IOptions<QueueOptions> options,
        IHostApplicationLifetime lifetime, ILogger<LeaseKeeper> logger)
    {
        this.store = store;
        this.retention = retention;
        this.uploads = uploads;
        this.webhooks = webhooks;
        this.leadership = leadership;
        this.changes = changes;
        this.clock = clock;
        this.options = options.Value;
        this.logger = logger;
        var started = clock.GetUtcNow();
        var grace = TimeSpan.FromSeconds(this.options.LeaseSeconds);
        graceEnds = started + grace;
        // Counted from when the host answers requests: a slow start-up must not eat into the grace.
        lifetime.ApplicationStarted.Register(() => graceEnds = clock.GetUtcNow() + grace);
        backoffsCheckedUpTo = started.ToUnixTimeSeconds();
        nextCleanup = started;
        nextRetention = started;
        nextUploadSweep = started;
    }

    /// <summary>One round of upkeep.</summary>
    public async Task SweepAsync()
    {
        var now = clock.GetUtcNow();
        var leads = await leadership.LeadsAsync();
        if (lastRoundFailed)
        {
            // The database answers again; heartbeats failed meanwhile, so leases get their grace once more.
            graceEnds = now + TimeSpan.FromSeconds(options.LeaseSeconds);
            lastRoundFailed = false;
        }
        if (leads && now >= graceEnds) await store.ExpireLeasesAsync();

        var upTo = now.ToUnixTimeSeconds();
        if (upTo > backoffsCheckedUpTo)
        {
            var ended = await store.BackoffsEndedAsync(backoffsCheckedUpTo, upTo);
            backoffsCheckedUpTo = upTo;
            if (ended > 0) changes.BackoffsEnded(ended);
        }

        // The chores below are scheduled before they run and fail on their own: one that keeps failing
        // (a huge delete timing out, say) is retried at its interval, and never stops leases from being
        // swept nor moves their grace, which is for a database that did not answer at all.
        if (leads && now >= nextCleanup)
        {
            nextCleanup = now + CleanupInterval;
            await ChoreAsync("forgetting old idempotency keys, changes and webhook deliveries", async () =>
            {
                await store.ForgetOldRecordsAsync();
                await webhooks.ForgetOldAsync(now.ToUnixTimeSeconds());
                return true;
            });
        }

        if (leads && now >= nextRetention)
        {
            nextRetention = now + CleanupInterval;
            // More left than a round deletes: the next round comes at the next sweep.
            if (await ChoreAsync("deleting ended jobs past RetentionDays", retention.RunAsync)) nextRetention = now;
        }

        if (leads && now >= nextUploadSweep)
        {
            nextUploadSweep = now + CleanupInterval;
            if (await ChoreAsync("sweeping expired and unused uploads from the media store", uploads.RunAsync)) nextUploadSweep = now;
        }
    }

    /// <summary>Runs one chore of the upkeep; a failure is logged and answered false.</summary>
    private async Task<bool> ChoreAsync(string chore, Func<Task<bool>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The queue's upkeep failed at {Chore}; trying again in {Interval}.", chore, CleanupInterval);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.1, options.LeaseSweepSeconds));
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                await SweepAsync();
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
