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
    /// <summary>A task that waited for others (a split job's join) can now be claimed: they have all finished.</summary>
    PartsReady,
    /// <summary>A job made of tasks took the state its tasks add up to.</summary>
    TasksSummed,
}

/// <summary>
/// One change to one job, as the store made it: the job as it now is, its state before and after,
/// and why. <see cref="From"/> is absent for a job just created, <see cref="To"/> for a job deleted.
/// </summary>
public sealed record JobChange(Job Job, JobState? From, JobState? To, ChangeCause Cause)
{
    public bool MovesStatus => From != To;

    /// <summary>A change to <paramref name="job"/> as it now is, from <paramref name="from"/> (null: created).</summary>
    public static JobChange Moved(JobState? from, Job job, ChangeCause cause) => new(job, from, job.State, cause);

    public static JobChange Same(Job job, ChangeCause cause) => new(job, job.State, job.State, cause);

    public static JobChange Deleted(Job job) => new(job, job.State, null, ChangeCause.Delete);

    /// <summary>
    /// How the log line, the audit trail and the shared store's from_status and to_status columns spell a
    /// change's states: an absent "from" as "none" and an absent "to" as "deleted", as they always have been
    /// (the columns cannot be null, and hosts of an earlier version read them).
    /// </summary>
    public static string SpellFrom(JobState? from) => from is { } state ? JobStatus.Name(state) : "none";

    /// <inheritdoc cref="SpellFrom"/>
    public static string SpellTo(JobState? to) => to is { } state ? JobStatus.Name(state) : "deleted";

    /// <summary>A stored from_status or to_status read back: "none", "deleted" (and anything unknown) are absent.</summary>
    public static JobState? ReadStored(string stored) => JobStatus.Parse(stored);
}

/// <summary>A write's result that carries the changes it made, for <see cref="JobChangeSink"/>.</summary>
public interface IChangeSet
{
    IReadOnlyList<JobChange> Changes { get; }
}
