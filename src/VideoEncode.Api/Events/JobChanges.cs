using VideoEncode.Api.Jobs;
using VideoEncode.Api.Metrics;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Events;

/// <summary>
/// Where every change to a job is announced: one log line for a state change (job id, from → to,
/// route; never the key), one event on the live stream, and the metrics' counters.
/// </summary>
public sealed class JobChanges(ILogger<JobChanges> logger, JobEvents events, QueueMetrics metrics)
{
    public const string None = "none";
    public const string LeaseExpiry = "lease expiry";

    /// <summary>The job moved from one status to another (or was created, from "none").</summary>
    public void Moved(Job job, string from, string route)
    {
        JobLog.StateChanged(logger, job.Id, from, job.Status, route);
        events.Publish(EventType(from, job.Status), job);
        if (job.Status == JobStatus.InProgress) metrics.Claimed();
        else if (job.Status == JobStatus.Finished) metrics.Finished();
        else if (job.Status == JobStatus.Failed) metrics.Failed();
        if (route == LeaseExpiry) metrics.LeaseExpired();
    }

    /// <summary>Something about a job changed without a change of status (progress, a cancel request).</summary>
    public void Updated(Job job, string route) => events.Publish(route == "heartbeat" ? "progress" : "updated", job);

    public void Deleted(long jobId, string from)
    {
        JobLog.StateChanged(logger, jobId, from, "deleted", "delete");
        events.PublishDeleted(jobId, from);
    }

    private static string EventType(string from, string to) => to switch
    {
        JobStatus.Pending => from == None ? "created" : "requeued",
        JobStatus.InProgress => "claimed",
        _ => to, // finished, failed, cancelled
    };
}
