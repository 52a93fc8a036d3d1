using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>What a person asks of a job, one at a time or in bulk: the single routes' actions.</summary>
public enum JobAction
{
    Cancel,
    Retry,
    Reset,
    Delete,
}

/// <summary>The change an action makes to a job, each one statement in <see cref="SharedJobSql"/> (bulk actions run it once over a set).</summary>
public enum JobMove
{
    /// <summary>Back to pending with a clean slate: attempts from zero, no backoff, no claim.</summary>
    Requeue,
    EndAsCancelled,
    /// <summary>A running job's cancel, noted for its worker; the status stays until the worker stops.</summary>
    RequestCancel,
    Delete,
}

/// <summary>
/// A worker's step on its claim, recorded on the job (jobs.claim_step) so that exactly a repeat of the
/// last one is recognised. Stored as <see cref="WorkerSteps"/> spells it.
/// </summary>
public enum WorkerStep
{
    Finish,
    Fail,
    /// <summary>A failure the worker says may succeed on another attempt.</summary>
    RetryableFail,
    Release,
    Cancel,
}

/// <summary>The stored spelling of each <see cref="WorkerStep"/> (jobs.claim_step), the same as in every database written before the enum.</summary>
public static class WorkerSteps
{
    public const string Finish = "finish", Fail = "fail", RetryableFail = "retryable fail", Release = "release", Cancel = "cancel";

    public static string Stored(WorkerStep step) => step switch
    {
        WorkerStep.Finish => Finish,
        WorkerStep.Fail => Fail,
        WorkerStep.RetryableFail => RetryableFail,
        WorkerStep.Release => Release,
        _ => Cancel,
    };

    /// <summary>The step a stored claim_step names; null for none (a claim that took no step yet, or a person's cancel).</summary>
    public static WorkerStep? Parse(string? stored) => stored switch
    {
        Finish => WorkerStep.Finish,
        Fail => WorkerStep.Fail,
        RetryableFail => WorkerStep.RetryableFail,
        Release => WorkerStep.Release,
        Cancel => WorkerStep.Cancel,
        _ => null,
    };
}

/// <summary>
/// What a person's action does to a job: a move, or none — because the job already is as asked
/// (<see cref="AlreadySo"/>: the single route answers the job as it is) or because the action does not
/// apply to it (the single route answers 409). <see cref="Reason"/> says why, for a bulk action's skip list.
/// </summary>
public readonly record struct Verdict(JobMove? Move, bool AlreadySo, string? Reason);

/// <summary>What a failure report does: the state it leaves, the backoff of a retry, the error kept, the step recorded.</summary>
public sealed record FailureOutcome(JobState To, string Error, long BackoffSeconds, WorkerStep Step)
{
    /// <summary>Back to pending after <see cref="BackoffSeconds"/>: attempts remain.</summary>
    public bool Retry => To == JobState.Pending;
}

/// <summary>The part of a job's row its steps are judged by (read under the row's lock where the store has row locks).</summary>
public sealed class ClaimState
{
    /// <summary>jobs.status, as stored; <see cref="State"/> is what rules decide with.</summary>
    public string Status { get; init; } = "";
    public string? Token { get; init; }
    /// <summary>jobs.claim_step, as stored; <see cref="LastStep"/> is what rules decide with.</summary>
    public string? Step { get; init; }
    public bool CancelRequested { get; init; }
    public long Attempts { get; init; }
    public long MaxAttempts { get; init; }
    public string? OutputName { get; init; }
    /// <summary>The job a task belongs to; null for a job.</summary>
    public long? ParentId { get; init; }
    /// <summary>jobs.task_kind: "job" for a job made of tasks, a task's kind, null for a plain job.</summary>
    public string? TaskKind { get; init; }

    public bool IsTask => ParentId is not null;
    public bool HasTasks => TaskKind == Job.MadeOfTasks;

    public JobState State => JobStatus.Parse(Status) ?? throw new FormatException($"Unknown job status '{Status}'.");
    public WorkerStep? LastStep => WorkerSteps.Parse(Step);
}

/// <summary>
/// The one table of a job's changes of state. Every single action and every bulk action
/// (<see cref="Decide"/>), every worker step (<see cref="Fail"/>, <see cref="GiveBack"/>,
/// <see cref="JudgeRepeat"/>), the lease sweep (<see cref="LeaseLapse"/>, from which
/// <see cref="SharedJobSql.ExpireLeases"/> is generated) and the renewal of leases from memory
/// (<see cref="AnswerBeatFromMemory"/>) decide here. Pure: it reads facts and answers a decision;
/// <see cref="JobLifecycle{TConnection}"/> reads the facts, writes the decision and announces it.
/// </summary>
public static class JobTransitions
{
    private const long MaxBackoffSeconds = 3600;

    /// <summary>A job holds its output_name against others while it is live: pending or running.</summary>
    public static bool IsLive(JobState state) => state is JobState.Pending or JobState.InProgress;

    /// <summary>
    /// What <paramref name="action"/> does to a job in <paramref name="state"/>. The same for one job and
    /// for many, except that a bulk delete leaves running jobs alone (cancel them first), while the single
    /// route deletes whatever it is asked to.
    /// </summary>
    public static Verdict Decide(JobAction action, JobState state, bool cancelRequested, bool bulk) => action switch
    {
        JobAction.Cancel => state switch
        {
            JobState.Pending => Do(JobMove.EndAsCancelled),
            JobState.InProgress when !cancelRequested => Do(JobMove.RequestCancel),
            JobState.InProgress => new Verdict(null, true, "a cancel is already waiting for its worker"),
            JobState.Cancelled => new Verdict(null, true, "cancelled jobs cannot be cancelled"),
            _ => Refuse($"{JobStatus.Name(state)} jobs cannot be cancelled"),
        },
        JobAction.Retry => state is JobState.Failed or JobState.Cancelled
            ? Do(JobMove.Requeue)
            : Refuse($"{JobStatus.Name(state)} jobs cannot be retried; only failed and cancelled ones"),
        JobAction.Reset => Do(JobMove.Requeue),
        _ => bulk && state == JobState.InProgress ? Refuse("running jobs cannot be deleted; cancel them first") : Do(JobMove.Delete),
    };

    private static Verdict Do(JobMove move) => new(move, false, null);
    private static Verdict Refuse(string reason) => new(null, false, reason);

    /// <summary>A requeue of a job that is neither pending nor running takes its output_name back, so the name must be free.</summary>
    public static bool Revives(JobMove move, JobState state) => move == JobMove.Requeue && !IsLive(state);

    /// <summary>Is this step by a worker holding <paramref name="token"/> on the job's current claim?</summary>
    public static bool HoldsClaim(ClaimState? current, string? token) => current is not null && current.State == JobState.InProgress && current.Token == token;

    /// <summary>
    /// A failure report on the claim <paramref name="current"/> holds: pending again after a backoff while
    /// attempts remain and the failure is retryable; cancelled when a cancel was waiting for the worker and
    /// the failure was retryable (the cancel wins over a retry); failed for good otherwise.
    /// </summary>
    public static FailureOutcome Fail(FailureReport report, ClaimState current, int firstBackoffSeconds)
    {
        var step = FailStep(report);
        if (report.Retryable && current.CancelRequested) return new FailureOutcome(JobState.Cancelled, report.Error, 0, step);
        var retry = report.Retryable && current.Attempts < current.MaxAttempts;
        var error = report.Retryable && !retry
            ? $"{report.Error} (attempt {current.Attempts} of {current.MaxAttempts}; no attempts left)"
            : report.Error;
        return new FailureOutcome(retry ? JobState.Pending : JobState.Failed, error, BackoffSeconds(firstBackoffSeconds, current.Attempts), step);
    }

    /// <summary>The step a failure report records: a retryable failure and a final one are different steps.</summary>
    public static WorkerStep FailStep(FailureReport report) => report.Retryable ? WorkerStep.RetryableFail : WorkerStep.Fail;

    /// <summary>The retry delay after the <paramref name="attempts"/>-th attempt failed: doubling from the first, up to an hour.</summary>
    public static long BackoffSeconds(int firstBackoffSeconds, long attempts) =>
        Math.Min(MaxBackoffSeconds, (long)firstBackoffSeconds << (int)Math.Clamp(attempts - 1, 0, 20));

    /// <summary>A claimed job given back by its worker: pending, untouched — or cancelled when a cancel was waiting for it.</summary>
    public static JobState GiveBack(bool cancelRequested) => cancelRequested ? JobState.Cancelled : JobState.Pending;

    /// <summary>
    /// A running job whose lease lapsed: cancelled when a cancel was waiting for its worker, failed when its
    /// attempts are used up, otherwise pending again.
    /// </summary>
    public static JobState LeaseLapse(bool cancelRequested, bool attemptsUsedUp) =>
        cancelRequested ? JobState.Cancelled : attemptsUsedUp ? JobState.Failed : JobState.Pending;

    /// <summary>Finished, failed and cancelled jobs have ended: they keep when they ended.</summary>
    public static bool HasEnded(JobState state) => state is JobState.Finished or JobState.Failed or JobState.Cancelled;

    /// <summary>
    /// A worker's step that did not apply, judged: exactly the step this same claim took last,
    /// repeated (answer the job, change nothing); a stale claim; or a job that is not running. An
    /// unfenced finish of a finished job counts as a repeat, as the original service had it.
    /// </summary>
    public static StepOutcome JudgeRepeat(ClaimState? current, string? token, WorkerStep? step)
    {
        if (current is null) return StepOutcome.NotFound;
        var repeat = token is null
            ? step == WorkerStep.Finish && current.State == JobState.Finished
            : step is not null && current.Token == token && current.LastStep == step && current.State != JobState.InProgress;
        if (repeat) return StepOutcome.Done;
        return token is null ? StepOutcome.NotRunning : StepOutcome.StaleClaim;
    }

    /// <summary>
    /// A beat is answered from memory only while more than this is left of its lease (unix seconds):
    /// half the lease, and for a short lease enough for the next beat to find it alive after an
    /// unanswered one — a worker (ClaimKeeper) beats a second apart and waits up to half its lease, at
    /// most 10 s, for an answer, so 2 s more than that; a lease of 5 s or less is renewed by every beat.
    /// With the 60 s default: 30 s, so one beat in thirty writes.
    /// </summary>
    public static int RenewWithinSeconds(int lease) => Math.Max(lease / 2, Math.Max(5, Math.Min(lease / 2, 10) + 2));

    /// <summary>
    /// May a beat be answered without renewing its lease? Only a lease of this host's length
    /// (<paramref name="lease"/>) with more than <see cref="RenewWithinSeconds"/> left. A longer one — the
    /// original service's claim (hours), or one another host wrote with a longer setting — goes to the store,
    /// whose renewal cuts it to this host's length: a worker that stops beating must not hold its job for hours.
    /// </summary>
    public static bool AnswerBeatFromMemory(long left, int lease) => left > RenewWithinSeconds(lease) && left <= lease;
}
