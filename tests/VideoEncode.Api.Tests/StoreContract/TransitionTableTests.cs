using VideoEncode.Api.Jobs;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests.StoreContract;

/// <summary>The transition table alone (<see cref="JobTransitions"/>): every state under every action, step and lapse.</summary>
[Trait("Store", TestStore.RunOnce)] // no store involved
public sealed class TransitionTableTests
{
    public static TheoryData<JobAction, JobState, bool, bool, JobMove?, bool> PersonActions => new()
    {
        // action, state, cancel requested, bulk -> move, already so
        { JobAction.Cancel, JobState.Pending, false, false, JobMove.EndAsCancelled, false },
        { JobAction.Cancel, JobState.InProgress, false, false, JobMove.RequestCancel, false },
        { JobAction.Cancel, JobState.InProgress, true, false, null, true },
        { JobAction.Cancel, JobState.Cancelled, false, false, null, true },
        { JobAction.Cancel, JobState.Finished, false, false, null, false },
        { JobAction.Cancel, JobState.Failed, false, false, null, false },
        { JobAction.Retry, JobState.Pending, false, false, null, false },
        { JobAction.Retry, JobState.InProgress, false, false, null, false },
        { JobAction.Retry, JobState.Finished, false, false, null, false },
        { JobAction.Retry, JobState.Failed, false, false, JobMove.Requeue, false },
        { JobAction.Retry, JobState.Cancelled, false, false, JobMove.Requeue, false },
        { JobAction.Reset, JobState.Pending, false, false, JobMove.Requeue, false },
        { JobAction.Reset, JobState.InProgress, false, false, JobMove.Requeue, false },
        { JobAction.Reset, JobState.Finished, false, false, JobMove.Requeue, false },
        { JobAction.Reset, JobState.Failed, false, false, JobMove.Requeue, false },
        { JobAction.Reset, JobState.Cancelled, false, false, JobMove.Requeue, false },
        { JobAction.Delete, JobState.Pending, false, false, JobMove.Delete, false },
        { JobAction.Delete, JobState.InProgress, false, false, JobMove.Delete, false },
        { JobAction.Delete, JobState.InProgress, false, true, null, false }, // bulk: cancel running jobs first
        { JobAction.Delete, JobState.Finished, false, true, JobMove.Delete, false },
        { JobAction.Delete, JobState.Failed, false, true, JobMove.Delete, false },
        { JobAction.Delete, JobState.Cancelled, false, true, JobMove.Delete, false },
    };

    [Theory]
    [MemberData(nameof(PersonActions))]
    public void EachActionOnEachStateHasOneVerdict(JobAction action, JobState state, bool cancelRequested, bool bulk, JobMove? move, bool alreadySo)
    {
        var verdict = JobTransitions.Decide(action, state, cancelRequested, bulk);
        Assert.Equal(move, verdict.Move);
        Assert.Equal(alreadySo, verdict.AlreadySo);
        // A move needs no reason; no move always has one, for a bulk action's skip list.
        Assert.Equal(move is null, verdict.Reason is not null);
    }

    [Fact]
    public void SingleAndBulkAgreeExceptOnDeletingARunningJob()
    {
        foreach (var action in Enum.GetValues<JobAction>())
            foreach (var state in Enum.GetValues<JobState>())
                foreach (var cancelRequested in new[] { false, true })
                {
                    var single = JobTransitions.Decide(action, state, cancelRequested, bulk: false);
                    var bulk = JobTransitions.Decide(action, state, cancelRequested, bulk: true);
                    if (action == JobAction.Delete && state == JobState.InProgress) Assert.NotEqual(single.Move, bulk.Move);
                    else Assert.Equal(single, bulk);
                }
    }

    [Fact]
    public void ARefusalNamesTheStateAsTheWireSpellsIt()
    {
        Assert.Equal("finished jobs cannot be cancelled", JobTransitions.Decide(JobAction.Cancel, JobState.Finished, false, true).Reason);
        Assert.Equal("in_progress jobs cannot be retried; only failed and cancelled ones",
            JobTransitions.Decide(JobAction.Retry, JobState.InProgress, false, true).Reason);
    }

    [Theory]
    [InlineData(JobMove.Requeue, JobState.Finished, true)]
    [InlineData(JobMove.Requeue, JobState.Failed, true)]
    [InlineData(JobMove.Requeue, JobState.Cancelled, true)]
    [InlineData(JobMove.Requeue, JobState.Pending, false)]
    [InlineData(JobMove.Requeue, JobState.InProgress, false)]
    [InlineData(JobMove.Delete, JobState.Finished, false)]
    [InlineData(JobMove.EndAsCancelled, JobState.Pending, false)]
    public void OnlyARequeueOfAnEndedJobRevivesItsOutputName(JobMove move, JobState state, bool revives) =>
        Assert.Equal(revives, JobTransitions.Revives(move, state));

    private static ClaimState Running(long attempts = 1, long maxAttempts = 3, bool cancelRequested = false, string? step = null) => new()
    {
        Status = JobStatus.InProgress, Token = "t", Attempts = attempts, MaxAttempts = maxAttempts, CancelRequested = cancelRequested, Step = step,
    };

    [Theory]
    // retryable, attempts, max, cancel requested -> state, step
    [InlineData(false, 1, 3, false, JobState.Failed, WorkerStep.Fail)]
    [InlineData(false, 1, 3, true, JobState.Failed, WorkerStep.Fail)]      // a final failure is a failure, cancel or not
    [InlineData(true, 1, 3, false, JobState.Pending, WorkerStep.RetryableFail)]
    [InlineData(true, 3, 3, false, JobState.Failed, WorkerStep.RetryableFail)]
    [InlineData(true, 1, 3, true, JobState.Cancelled, WorkerStep.RetryableFail)] // the cancel wins over a retry
    public void AFailureIsJudgedByItsAttemptsAndAWaitingCancel(bool retryable, long attempts, long max, bool cancelRequested, JobState to, WorkerStep step)
    {
        var outcome = JobTransitions.Fail(new FailureReport("boom", Retryable: retryable), Running(attempts, max, cancelRequested), firstBackoffSeconds: 30);
        Assert.Equal(to, outcome.To);
        Assert.Equal(step, outcome.Step);
        Assert.Equal(to == JobState.Pending, outcome.Retry);
    }

    [Fact]
    public void ARetryableFailureOutOfAttemptsSaysSo() =>
        Assert.Equal("boom (attempt 3 of 3; no attempts left)",
            JobTransitions.Fail(new FailureReport("boom", Retryable: true), Running(3, 3), 30).Error);

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(8, 3600)] // capped at an hour
    [InlineData(40, 3600)]
    public void TheBackoffDoublesFromTheFirstUpToAnHour(long attempts, long seconds) =>
        Assert.Equal(seconds, JobTransitions.BackoffSeconds(30, attempts));

    [Theory]
    [InlineData(false, false, JobState.Pending)]
    [InlineData(false, true, JobState.Failed)]
    [InlineData(true, false, JobState.Cancelled)]
    [InlineData(true, true, JobState.Cancelled)]
    public void ALapsedLeaseEndsAsItsFactsSay(bool cancelRequested, bool usedUp, JobState to) =>
        Assert.Equal(to, JobTransitions.LeaseLapse(cancelRequested, usedUp));

    [Fact]
    public void TheLeaseSweepIsWrittenFromTheTable()
    {
        // Each outcome of the table appears in the statement's status CASE, and no other status.
        foreach (var state in new[] { JobState.Pending, JobState.Failed, JobState.Cancelled })
            Assert.Contains($"'{JobStatus.Name(state)}'", SharedJobSql.ExpireLeases);
        Assert.DoesNotContain($"THEN '{JobStatus.Finished}'", SharedJobSql.ExpireLeases);
    }

    [Theory]
    [InlineData(false, JobState.Pending)]
    [InlineData(true, JobState.Cancelled)]
    public void AGivenBackJobIsPendingUnlessACancelWaited(bool cancelRequested, JobState to) =>
        Assert.Equal(to, JobTransitions.GiveBack(cancelRequested));

    [Fact]
    public void OnlyTheClaimsOwnTokenOnARunningJobHoldsIt()
    {
        Assert.True(JobTransitions.HoldsClaim(Running(), "t"));
        Assert.False(JobTransitions.HoldsClaim(Running(), "other"));
        Assert.False(JobTransitions.HoldsClaim(null, "t"));
        Assert.False(JobTransitions.HoldsClaim(new ClaimState { Status = JobStatus.Pending, Token = "t" }, "t"));
    }

    [Theory]
    // state, stored token, last step, asked token, asked step -> outcome
    [InlineData(JobStatus.Finished, "t", WorkerSteps.Finish, "t", WorkerStep.Finish, StepOutcome.Done)]
    [InlineData(JobStatus.Failed, "t", WorkerSteps.Fail, "t", WorkerStep.Fail, StepOutcome.Done)]
    [InlineData(JobStatus.Pending, "t", WorkerSteps.RetryableFail, "t", WorkerStep.RetryableFail, StepOutcome.Done)]
    [InlineData(JobStatus.Pending, "t", WorkerSteps.Release, "t", WorkerStep.Release, StepOutcome.Done)]
    [InlineData(JobStatus.Cancelled, "t", WorkerSteps.Cancel, "t", WorkerStep.Cancel, StepOutcome.Done)]
    [InlineData(JobStatus.Finished, "t", WorkerSteps.Finish, "t", WorkerStep.Fail, StepOutcome.StaleClaim)]  // another step
    [InlineData(JobStatus.Finished, "t", WorkerSteps.Finish, "u", WorkerStep.Finish, StepOutcome.StaleClaim)] // another claim
    [InlineData(JobStatus.InProgress, "t", WorkerSteps.Finish, "t", WorkerStep.Finish, StepOutcome.StaleClaim)] // running again
    [InlineData(JobStatus.Finished, "t", WorkerSteps.Finish, null, WorkerStep.Finish, StepOutcome.Done)]     // unfenced finish of a finished job
    [InlineData(JobStatus.Pending, null, null, null, WorkerStep.Finish, StepOutcome.NotRunning)]
    public void ARepeatIsExactlyTheClaimsLastStep(string status, string? token, string? stored, string? asked, WorkerStep step, StepOutcome outcome) =>
        Assert.Equal(outcome, JobTransitions.JudgeRepeat(new ClaimState { Status = status, Token = token, Step = stored }, asked, step));

    [Fact]
    public void ARepeatOfNoJobIsNotFound() => Assert.Equal(StepOutcome.NotFound, JobTransitions.JudgeRepeat(null, "t", WorkerStep.Finish));

    [Fact]
    public void EveryStepKeepsItsStoredSpelling()
    {
        Assert.Equal(["finish", "fail", "retryable fail", "release", "cancel"], Enum.GetValues<WorkerStep>().Select(WorkerSteps.Stored));
        foreach (var step in Enum.GetValues<WorkerStep>()) Assert.Equal(step, WorkerSteps.Parse(WorkerSteps.Stored(step)));
        Assert.Null(WorkerSteps.Parse(null));
    }

    [Fact]
    public void EveryStateKeepsItsWireSpelling()
    {
        Assert.Equal(JobStatus.All, Enum.GetValues<JobState>().Select(JobStatus.Name));
        foreach (var state in Enum.GetValues<JobState>()) Assert.Equal(state, JobStatus.Parse(JobStatus.Name(state)));
        Assert.Null(JobStatus.Parse("none"));
        Assert.Null(JobStatus.Parse("deleted"));
    }

    [Theory]
    [InlineData(31, 60, true)]
    [InlineData(30, 60, false)]
    [InlineData(61, 60, false)] // longer than this host's lease: the store cuts it
    [InlineData(5, 5, false)]
    public void ABeatIsAnsweredFromMemoryOnlyBeforeRenewalIsDue(long left, int lease, bool fromMemory) =>
        Assert.Equal(fromMemory, JobTransitions.AnswerBeatFromMemory(left, lease));
}
