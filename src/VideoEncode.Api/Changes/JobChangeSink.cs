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
            // A retryable failure is pending but backed off: the lease keeper wakes a waiter when its backoff ends.
            if (change.MovesStatus && change.To == JobStatus.Pending && change.Cause != ChangeCause.RetryableFail) claimable++;
        }
        if (claimable > 0) waiters.Wake(claimable);
    }

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
