using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

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

/// <summary>What became of a requested step on a job.</summary>
public enum StepOutcome
{
    /// <summary>Done, or — for a repeat of what already happened — nothing needed doing.</summary>
    Done,
    NotFound,
    /// <summary>An unfenced finish of a job that is not running.</summary>
    NotRunning,
    /// <summary>The claim token is not the job's current claim: the caller's claim lapsed or was taken away.</summary>
    StaleClaim,
    /// <summary>The step does not apply to the job's status (retrying a finished job, say).</summary>
    WrongState,
    /// <summary>Another live job already writes the job's output_name.</summary>
    OutputTaken,
}

/// <summary>
/// The answer to a step: its outcome, the job as it now is (when there is one) and the changes the
/// store made, which <see cref="JobChangeSink"/> has published by the time the caller sees this.
/// </summary>
public sealed record JobStep(StepOutcome Outcome, Job? Job, IReadOnlyList<JobChange> Changes) : IChangeSet
{
    public static JobStep Done(Job job, params JobChange[] changes) => new(StepOutcome.Done, job, changes);
    public static JobStep Changed(string from, Job job, ChangeCause cause) => Done(job, JobChange.Moved(from, job, cause));
    public static JobStep Stale(Job job) => new(StepOutcome.StaleClaim, job, []);
    public static JobStep Wrong(Job job) => new(StepOutcome.WrongState, job, []);
    public static JobStep Taken(Job job) => new(StepOutcome.OutputTaken, job, []);
    public static readonly JobStep NotFound = new(StepOutcome.NotFound, null, []);
    public static readonly JobStep NotRunning = new(StepOutcome.NotRunning, null, []);
}
