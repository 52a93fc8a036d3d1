using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>Why a job changed. The log line, the event type and the metrics are chosen from this, never from strings.</summary>
public enum ChangeCause
{
    Enqueue,
    Claim,
    /// <summary>A claim through the original service's GET route (a long lease).</summary>
    LegacyClaim,
    /// <summary>A long-poll claim whose client went away before its answer: the job is given back, the attempt not counted.</summary>
    AbandonedClaim,
    /// <summary>Progress, speed and time left from a worker; the status stays.</summary>
    Heartbeat,
    Finish,
    Fail,
    /// <summary>A retryable failure with attempts left: pending again after a backoff.</summary>
    RetryableFail,
    Release,
    /// <summary>A cancel of a running job, noted for its worker; the status stays until the worker stops.</summary>
    CancelRequest,
    Cancel,
    Retry,
    Reset,
    Delete,
    LeaseExpiry,
}

/// <summary>
/// One change to one job, as the store made it: the job as it now is, its status before and
/// after, and why. <see cref="To"/> is the job's status, or <see cref="Deleted"/>; <see cref="From"/>
/// is <see cref="Created"/> for a new job.
/// </summary>
public sealed record JobChange(Job Job, string From, string To, ChangeCause Cause)
{
    public const string Created = "none";
    public const string Deleted = "deleted";

    public bool MovesStatus => From != To;

    public static JobChange Moved(string from, Job job, ChangeCause cause) => new(job, from, job.Status, cause);

    public static JobChange Same(Job job, ChangeCause cause) => new(job, job.Status, job.Status, cause);
}

/// <summary>A write's result that carries the changes it made, for <see cref="JobChangeSink"/>.</summary>
public interface IChangeSet
{
    IReadOnlyList<JobChange> Changes { get; }
}
