using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>What became of a requested change to a job.</summary>
public enum ChangeOutcome
{
    /// <summary>The job moved from <see cref="JobChange.From"/> to its current status.</summary>
    Changed,
    /// <summary>Nothing needed to change (a repeat, a heartbeat, a cancel request noted).</summary>
    Unchanged,
    NotFound,
    /// <summary>An unfenced finish or fail of a job that is not running.</summary>
    NotRunning,
    /// <summary>The claim token is not the job's current claim: the caller's claim lapsed or was taken away.</summary>
    StaleClaim,
    /// <summary>The action does not apply to the job's status (retrying a finished job, say).</summary>
    WrongState,
}

/// <summary>The outcome of a change, the job as it now is (when there is one) and its status before.</summary>
public sealed record JobChange(ChangeOutcome Outcome, Job? Job, string? From)
{
    public static JobChange Changed(string from, Job job) => new(ChangeOutcome.Changed, job, from);
    public static JobChange Unchanged(Job job) => new(ChangeOutcome.Unchanged, job, job.Status);
    public static JobChange StaleClaim(Job job) => new(ChangeOutcome.StaleClaim, job, job.Status);
    public static JobChange WrongState(Job job) => new(ChangeOutcome.WrongState, job, job.Status);
    public static readonly JobChange NotFound = new(ChangeOutcome.NotFound, null, null);
    public static readonly JobChange NotRunning = new(ChangeOutcome.NotRunning, null, null);
}

/// <summary>A job after a change, and the status it had before (for the state-change log).</summary>
public sealed record Transition(string From, Job Job);
