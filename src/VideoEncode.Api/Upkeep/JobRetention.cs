using Microsoft.Extensions.Options;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Metrics;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// Deletes finished, failed and cancelled jobs RetentionDays (30 by default) after they ended, and
/// audit entries after a year or RetentionDays, whichever is longer (the trail of who deleted or
/// reset a job outlives the job); RetentionDays = 0 keeps both forever. Pending and running jobs are
/// never touched. A round runs on the leading host once a minute (<see cref="LeaderChore"/>).
///
/// The work comes in batches of <see cref="BatchSize"/> rows, each its own short write, so SQLite's
/// single writer is never held for long (other writes take their turn between batches) and PostgreSQL
/// locks few rows at a time; a round stops after <see cref="BatchesPerRound"/> and answers whether
/// more is left, so a backlog (retention just switched on) drains in rounds a second apart rather
/// than in one long stall. After a round that deleted anything, the space is handed back (SQLite's
/// incremental vacuum; PostgreSQL's autovacuum does it by itself).
///
/// These deletions are not announced as changes (no "deleted" event, no log line per job): a round
/// can delete thousands of jobs that ended a month ago, and as many events would push the live
/// stream's replay window (the last 10,000 events) out from under every connected page for jobs
/// nobody is watching; a page meets their absence on its next load. The round logs one line with
/// its count, and the metrics count them.
/// </summary>
public sealed class JobRetention(IJobStore jobs, AuditTrail audit, TimeProvider clock, IOptions<QueueOptions> options,
    QueueMetrics metrics, ILogger<JobRetention> logger) : LeaderChore(clock, logger)
{
    public const int BatchSize = 500;
    private const int BatchesPerRound = 10;
    private static readonly TimeSpan MinimumAuditKeep = TimeSpan.FromDays(365);

    protected override string Doing => "deleting ended jobs past RetentionDays";

    /// <summary>One round; answers true when it stopped with more left to delete.</summary>
    public override async Task<bool> RunAsync()
    {
        var days = options.Value.RetentionDays;
        if (days == 0) return false;
        var now = Clock.GetUtcNow();
        var jobsBefore = (now - TimeSpan.FromDays(days)).ToUnixTimeSeconds();
        int deleted = 0, last = 0;
        for (var batch = 0; batch < BatchesPerRound && (batch == 0 || last == BatchSize); batch++)
        {
            last = await jobs.DeleteEndedAsync(jobsBefore, BatchSize);
            deleted += last;
        }
        var auditKeep = TimeSpan.FromDays(Math.Max(days, MinimumAuditKeep.TotalDays));
        var entries = await audit.ForgetBeforeAsync((now - auditKeep).ToUnixTimeSeconds(), BatchSize);

        if (deleted + entries == 0) return false;
        metrics.RetentionDeleted(deleted);
        logger.LogInformation("Retention deleted {Jobs} jobs that ended more than {Days} days ago and {Entries} audit entries older than {AuditDays} days.",
            deleted, days, entries, auditKeep.TotalDays);
        await jobs.ReclaimSpaceAsync();
        return last == BatchSize || entries == BatchSize;
    }
}
