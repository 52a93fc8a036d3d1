using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

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
    /// <summary>A claim found nothing because the queue is paused.</summary>
    Paused,
    /// <summary>A claim was refused because its worker is being drained.</summary>
    Draining,
    /// <summary>A claim found nothing because the queue's schedule, or its worker's, is closed (<see cref="JobStep.OpensAt"/> says until when).</summary>
    OutsideSchedule,
    /// <summary>A store job's finish did not name a complete upload holding its result.</summary>
    ResultMissing,
    /// <summary>The step's report does not fit the job (<see cref="JobStep.Refusal"/> says why): a finish outside its quality gate.</summary>
    ReportRefused,
}

/// <summary>Why a step's report was refused: the field at fault and a message for the caller.</summary>
public sealed record StepRefusal(string Field, string Message);

/// <summary>
/// The answer to a step: its outcome, the job as it now is (when there is one) and the changes the
/// store made, which <see cref="JobChangeSink"/> has published by the time the caller sees this.
/// </summary>
public sealed record JobStep(StepOutcome Outcome, Job? Job, IReadOnlyList<JobChange> Changes) : IChangeSet
{
    /// <summary>With <see cref="StepOutcome.ReportRefused"/>: why.</summary>
    public StepRefusal? Refusal { get; init; }

    /// <summary>With <see cref="StepOutcome.OutsideSchedule"/>: when the schedules next open (unix seconds); null when they never do.</summary>
    public long? OpensAt { get; init; }

    public static JobStep OutsideSchedule(long? opensAt) => new(StepOutcome.OutsideSchedule, null, []) { OpensAt = opensAt };
    public static JobStep Refused(StepRefusal refusal) => new(StepOutcome.ReportRefused, null, []) { Refusal = refusal };
    public static JobStep Done(Job job, params JobChange[] changes) => new(StepOutcome.Done, job, changes);
    public static JobStep Changed(JobState from, Job job, ChangeCause cause) => Done(job, JobChange.Moved(from, job, cause));
    public static JobStep Stale(Job job) => new(StepOutcome.StaleClaim, job, []);
    public static JobStep Wrong(Job job) => new(StepOutcome.WrongState, job, []);
    public static JobStep Taken(Job job) => new(StepOutcome.OutputTaken, job, []);
    public static readonly JobStep NotFound = new(StepOutcome.NotFound, null, []);
    public static readonly JobStep NotRunning = new(StepOutcome.NotRunning, null, []);
    public static readonly JobStep Paused = new(StepOutcome.Paused, null, []);
    public static readonly JobStep Draining = new(StepOutcome.Draining, null, []);
    public static readonly JobStep ResultMissing = new(StepOutcome.ResultMissing, null, []);

    /// <summary>A claim that found nothing, told why (<see cref="SharedJobSql.WhyNoClaim"/>'s answer): a drain first, then a pause.</summary>
    public static JobStep NoClaim(NoClaimFacts why) => why.Draining ? Draining : why.Paused ? Paused : NotFound;
}

/// <summary>Why a claim found nothing, as <see cref="SharedJobSql.WhyNoClaim"/> reads it.</summary>
public sealed class NoClaimFacts
{
    /// <summary>The queue is paused.</summary>
    public bool Paused { get; init; }
    /// <summary>The claiming worker is being drained.</summary>
    public bool Draining { get; init; }
}
