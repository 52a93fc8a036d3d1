using VideoEncode.Api.Events;
using VideoEncode.Api.Metrics;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// The one place a committed change is announced: one log line for a change of status (job id,
/// from -> to, cause; never the key), one event on the live stream, the metrics' counters, and a
/// wake-up for a waiting claim per job that became claimable. The store calls it after the commit
/// that made the changes, for every write, so no route can forget to announce one.
/// </summary>
public sealed class JobChangeSink(ILogger<JobChangeSink> logger, JobEvents events, QueueMetrics metrics, ClaimWaiters waiters)
{
    public void Publish(IReadOnlyList<JobChange> changes)
    {
        var claimable = 0;
        foreach (var change in changes)
        {
            if (change.MovesStatus) JobLog.StateChanged(logger, change.Job.Id, change.From, change.To, Describe(change.Cause));
            if (change.To == JobChange.Deleted) events.PublishDeleted(change.Job.Id, change.From);
            else events.Publish(EventType(change), change.Job);
            Count(change);
            if (IsClaimableNow(change)) claimable++;
        }
        if (claimable > 0) waiters.Wake(claimable);
    }

    /// <summary>Jobs whose retry backoff ended (the lease keeper finds them): as many waiting claims are woken.</summary>
    public void BackoffsEnded(int jobs) => waiters.Wake(jobs);

    /// <summary>
    /// A job that became claimable: pending now, from another status or by a reset or retry (which
    /// also end a backoff). A retryable failure is pending but backed off: its wake comes from
    /// <see cref="BackoffsEnded"/> when the backoff is over.
    /// </summary>
    private static bool IsClaimableNow(JobChange change) =>
        change.To == JobStatus.Pending && change.Cause != ChangeCause.RetryableFail
        && (change.MovesStatus || change.Cause is ChangeCause.Reset or ChangeCause.Retry);

    private void Count(JobChange change)
    {
        if (!change.MovesStatus) return;
        if (change.To == JobStatus.InProgress) metrics.Claimed();
        else if (change.To == JobStatus.Finished) metrics.Finished();
        else if (change.To == JobStatus.Failed) metrics.Failed();
        if (change.Cause == ChangeCause.LeaseExpiry) metrics.LeaseExpired();
    }

    /// <summary>The event stream's type for a change: created, claimed, progress, finished, failed, cancelled, requeued or updated.</summary>
    private static string EventType(JobChange change) => change switch
    {
        { From: JobChange.Created } => "created",
        { MovesStatus: false, Cause: ChangeCause.Heartbeat } => "progress",
        { MovesStatus: false } => "updated",
        { To: JobStatus.Pending } => "requeued",
        { To: JobStatus.InProgress } => "claimed",
        _ => change.To, // finished, failed, cancelled
    };

    /// <summary>"LeaseExpiry" -> "lease expiry", for the log line.</summary>
    private static string Describe(ChangeCause cause) =>
        string.Concat(cause.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
