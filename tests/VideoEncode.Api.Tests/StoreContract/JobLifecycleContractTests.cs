using VideoEncode.Api.Changes;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Queue;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests.StoreContract;

/// <summary>
/// The store contract: every lifecycle rule and driver operation, asked of the job lifecycle directly
/// (<see cref="IJobStore"/> from the host's services), on whichever store VIDEOENCODE_TEST_STORE selects —
/// so the same assertions hold for SQLite's driver and PostgreSQL's. The clock is manual and the lease
/// sweep is left to the test (a sweep every hour), so nothing moves unless a test moves it.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class JobLifecycleContractTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly IJobStore store;

    public JobLifecycleContractTests()
    {
        factory = new QueueFactory(settings: new Dictionary<string, string?>
        {
            ["LeaseSeconds"] = "60", ["RetryBackoffSeconds"] = "30", ["LeaseSweepSeconds"] = "3600", ["LeaderLeaseSeconds"] = "7200",
        }, clock: clock);
        store = factory.GetService<IJobStore>();
    }

    public void Dispose() => factory.Dispose();

    private static NewJob Job(string file = "clip.mkv", int maxAttempts = 3, string? outputName = null) =>
        new(file, "23", "medium", MaxAttempts: maxAttempts, OutputName: outputName);

    private async Task<Job> CreateAsync(string file = "clip.mkv", int maxAttempts = 3, string? outputName = null) =>
        Assert.Single((await store.CreateAsync([Job(file, maxAttempts, outputName)], null, "tests", CancellationToken.None)).Jobs);

    private async Task<Job> ClaimAsync(string? worker = "w1")
    {
        var step = await store.ClaimAsync(new ClaimRequest(worker), legacyClient: false, CancellationToken.None);
        Assert.Equal(StepOutcome.Done, step.Outcome);
        return step.Job!;
    }

    private async Task<Job> StoredAsync(long id) => (await store.GetAsync(id))!;

    private static JobChange OneChange(IChangeSet step) => Assert.Single(step.Changes);

    [Fact]
    public async Task AnEnqueueStoresPendingJobsInOrderEachAnnouncedAsCreated()
    {
        var enqueued = await store.CreateAsync([Job("a.mkv"), Job("b.mkv")], null, "tests", CancellationToken.None);

        Assert.Equal(EnqueueOutcome.Created, enqueued.Outcome);
        Assert.Equal(["a.mp4", "b.mp4"], enqueued.Jobs.Select(job => job.OutputName));
        Assert.All(enqueued.Jobs, job => Assert.Equal(JobState.Pending, job.State));
        Assert.True(enqueued.Jobs[0].Id < enqueued.Jobs[1].Id);
        Assert.All(enqueued.Changes, change => Assert.Equal((null, JobState.Pending, ChangeCause.Enqueue), (change.From, change.To, change.Cause)));
        Assert.Equal("tests", enqueued.Jobs[0].CreatedBy);
    }

    [Fact]
    public async Task AnOutputNameALiveJobHoldsIsRefusedAndADefaultOneNumbered()
    {
        await CreateAsync("a.mkv", outputName: "Taken.mp4");

        var clash = await store.CreateAsync([Job("b.mkv", outputName: "taken.MP4")], null, null, CancellationToken.None);
        Assert.Equal((EnqueueOutcome.OutputTaken, 0), (clash.Outcome, clash.Index));
        Assert.Empty(clash.Changes);
        Assert.Equal("taken (2).mp4", (await CreateAsync("taken.avi")).OutputName);
    }

    [Fact]
    public async Task AnIdempotencyKeyReplaysItsJobsAndRefusesAnotherBody()
    {
        var key = new IdempotencyKey("k1", "hash-a");
        var first = await store.CreateAsync([Job("a.mkv"), Job("b.mkv")], key, null, CancellationToken.None);

        var again = await store.CreateAsync([Job("a.mkv"), Job("b.mkv")], key, null, CancellationToken.None);
        Assert.Equal(EnqueueOutcome.Replayed, again.Outcome);
        Assert.Equal(first.Jobs.Select(job => job.Id), again.Jobs.Select(job => job.Id));
        Assert.Empty(again.Changes);
        Assert.Equal(EnqueueOutcome.KeyReused, (await store.CreateAsync([Job("c.mkv")], key with { RequestHash = "hash-b" }, null, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AWatchedSourceIsEnqueuedOnce()
    {
        var source = new WatchedFile("shows/a.mkv", 10, 5);
        var first = Assert.Single((await store.CreateAsync([Job("shows/a.mkv") with { Source = source }], null, null, CancellationToken.None)).Jobs);

        var again = await store.CreateAsync([Job("other.mkv"), Job("shows/a.mkv") with { Source = source }], null, null, CancellationToken.None);
        Assert.Equal((EnqueueOutcome.SourceSeen, 1, first.Id, "shows/a.mkv"), (again.Outcome, again.Index, again.SeenAs, again.Name));
        Assert.Equal(EnqueueOutcome.Created,
            (await store.CreateAsync([Job("shows/a.mkv") with { Source = source with { Size = 11 } }], null, null, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AClaimTakesTheHighestPriorityThenOldestWithATokenAndALease()
    {
        var older = await CreateAsync("older.mkv");
        var urgent = Assert.Single((await store.CreateAsync([Job("urgent.mkv") with { Priority = 5 }], null, null, CancellationToken.None)).Jobs);

        var claim = await store.ClaimAsync(new ClaimRequest("w1"), legacyClient: false, CancellationToken.None);
        Assert.Equal(urgent.Id, claim.Job!.Id);
        Assert.Equal((JobState.InProgress, 1, "w1"), (claim.Job.State, claim.Job.Attempts, claim.Job.Worker));
        Assert.NotNull(claim.Job.ClaimToken);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 60, claim.Job.LeaseExpiresAt);
        Assert.Equal((JobState.Pending, JobState.InProgress, ChangeCause.Claim), (OneChange(claim).From, OneChange(claim).To, OneChange(claim).Cause));
        Assert.Equal(older.Id, (await ClaimAsync()).Id);
        Assert.Equal(StepOutcome.NotFound, (await store.ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ALegacyClaimHasTheLongLease()
    {
        await CreateAsync();
        var claim = await store.ClaimAsync(new ClaimRequest(), legacyClient: true, CancellationToken.None);
        Assert.Equal(ChangeCause.LegacyClaim, OneChange(claim).Cause);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 4 * 60 * 60, claim.Job!.LeaseExpiresAt);
    }

    [Fact]
    public async Task APausedQueueAndADrainedWorkerClaimNothingAndAreToldWhy()
    {
        await CreateAsync();
        var control = factory.GetService<QueueControl>();
        await factory.GetService<WorkerDrains>().DrainAsync("w1", "tests");
        Assert.Equal(StepOutcome.Draining, (await store.ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome);
        await control.PauseAsync("tests");
        Assert.Equal(StepOutcome.Draining, (await store.ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome); // a drain first
        Assert.Equal(StepOutcome.Paused, (await store.ClaimAsync(new ClaimRequest("w2"), false, CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.Paused, (await store.ClaimAsync(new ClaimRequest(), false, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AHeartbeatRenewsTheLeaseAndKeepsTheFiguresOnlyForItsClaim()
    {
        await CreateAsync();
        var claimed = await ClaimAsync();
        clock.Advance(TimeSpan.FromSeconds(20));

        var beat = await store.HeartbeatAsync(claimed.Id, new Heartbeat(claimed.ClaimToken!, Progress: 40, Phase: JobPhase.Encoding), CancellationToken.None);
        Assert.Equal(StepOutcome.Done, beat.Outcome);
        Assert.Equal((40.0, clock.GetUtcNow().ToUnixTimeSeconds() + 60), (beat.Job!.Progress, beat.Job.LeaseExpiresAt));
        Assert.False(beat.Job.Drain);
        Assert.Equal((JobState.InProgress, JobState.InProgress, ChangeCause.Heartbeat), (OneChange(beat).From, OneChange(beat).To, OneChange(beat).Cause));
        Assert.Equal(StepOutcome.StaleClaim, (await store.HeartbeatAsync(claimed.Id, new Heartbeat("not-the-token", Progress: 90), CancellationToken.None)).Outcome);
        Assert.Equal(40, (await StoredAsync(claimed.Id)).Progress);
    }

    [Fact]
    public async Task AHeartbeatOfADrainedWorkerSaysDrain()
    {
        await CreateAsync();
        var claimed = await ClaimAsync();
        await factory.GetService<WorkerDrains>().DrainAsync("w1", "tests");
        var beat = await store.HeartbeatAsync(claimed.Id, new Heartbeat(claimed.ClaimToken!), CancellationToken.None);
        Assert.True(beat.Job!.Drain);
        Assert.False(OneChange(beat).Job.Drain); // the change is for everyone; the drain for the worker only
    }

    [Fact]
    public async Task AFinishEndsTheRunAndItsRepeatIsAnsweredWithTheJob()
    {
        await CreateAsync();
        var claimed = await ClaimAsync();
        var report = new FinishReport(claimed.ClaimToken!, OutputBytes: 1234);

        var finished = await store.FinishAsync(claimed.Id, report, CancellationToken.None);
        Assert.Equal((JobState.Finished, 100.0, 1234L), (finished.Job!.State, finished.Job.Progress, finished.Job.OutputBytes));
        Assert.Equal((JobState.InProgress, JobState.Finished, ChangeCause.Finish), (OneChange(finished).From, OneChange(finished).To, OneChange(finished).Cause));

        var repeat = await store.FinishAsync(claimed.Id, report, CancellationToken.None);
        Assert.Equal(StepOutcome.Done, repeat.Outcome);
        Assert.Empty(repeat.Changes);
        Assert.Equal(StepOutcome.StaleClaim, (await store.FinishAsync(claimed.Id, new FinishReport("other"), CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.Done, (await store.FinishAsync(claimed.Id, null, CancellationToken.None)).Outcome); // the original's unfenced repeat
        Assert.Equal(StepOutcome.NotFound, (await store.FinishAsync(999_999, report, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AnUnfencedFinishTakesAnyRunningJobButNoPendingOne()
    {
        var job = await CreateAsync();
        Assert.Equal(StepOutcome.NotRunning, (await store.FinishAsync(job.Id, null, CancellationToken.None)).Outcome);
        await ClaimAsync();
        Assert.Equal(JobState.Finished, (await store.FinishAsync(job.Id, null, CancellationToken.None)).Job!.State);
    }

    [Fact]
    public async Task ARetryableFailureWithAttemptsLeftBacksOffThenEndsFailedWhenTheyAreUsedUp()
    {
        var job = await CreateAsync(maxAttempts: 2);
        var first = await ClaimAsync();

        var retry = await store.FailAsync(job.Id, new FailureReport("flaky", ClaimToken: first.ClaimToken, Retryable: true), CancellationToken.None);
        Assert.Equal((JobState.Pending, ChangeCause.RetryableFail), (retry.Job!.State, OneChange(retry).Cause));
        Assert.Equal(StepOutcome.NotFound, (await store.ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome); // backed off
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(1, await store.BackoffsEndedAsync(now, now + 30));
        Assert.Equal(0, await store.BackoffsEndedAsync(now, now + 29));
        clock.Advance(TimeSpan.FromSeconds(30));

        var second = await ClaimAsync();
        var final = await store.FailAsync(job.Id, new FailureReport("flaky", ClaimToken: second.ClaimToken, Retryable: true), CancellationToken.None);
        Assert.Equal((JobState.Failed, "flaky (attempt 2 of 2; no attempts left)"), (final.Job!.State, final.Job.Error));
        Assert.Equal(StepOutcome.Done, (await store.FailAsync(job.Id, new FailureReport("flaky", ClaimToken: second.ClaimToken, Retryable: true), CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.StaleClaim, (await store.FailAsync(job.Id, new FailureReport("flaky", ClaimToken: second.ClaimToken), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AFinalFailureEndsTheJobWithItsReason()
    {
        var job = await CreateAsync();
        var claimed = await ClaimAsync();
        var failed = await store.FailAsync(job.Id, new FailureReport("bad input", "log", claimed.ClaimToken), CancellationToken.None);
        Assert.Equal((JobState.Failed, "bad input", "log"), (failed.Job!.State, failed.Job.Error, failed.Job.LogTail));
        Assert.Equal((JobState.InProgress, JobState.Failed, ChangeCause.Fail), (OneChange(failed).From, OneChange(failed).To, OneChange(failed).Cause));
    }

    [Fact]
    public async Task AWaitingCancelWinsOverARetryAndAGiveBack()
    {
        var a = await CreateAsync("a.mkv");
        var b = await CreateAsync("b.mkv");
        var claimedA = await ClaimAsync();
        var claimedB = await ClaimAsync();
        await store.CancelAsync(a.Id, null, "tests", CancellationToken.None);
        await store.CancelAsync(b.Id, null, "tests", CancellationToken.None);

        var failed = await store.FailAsync(a.Id, new FailureReport("stopped", ClaimToken: claimedA.ClaimToken, Retryable: true), CancellationToken.None);
        Assert.Equal((JobState.Cancelled, ChangeCause.Cancel), (failed.Job!.State, OneChange(failed).Cause));
        var released = await store.ReleaseAsync(b.Id, claimedB.ClaimToken!, CancellationToken.None);
        Assert.Equal((JobState.Cancelled, ChangeCause.Cancel), (released.Job!.State, OneChange(released).Cause));
    }

    [Fact]
    public async Task AGivenBackJobIsPendingWithItsAttemptNotCounted()
    {
        var job = await CreateAsync();
        var claimed = await ClaimAsync();

        var released = await store.ReleaseAsync(job.Id, claimed.ClaimToken!, CancellationToken.None);
        Assert.Equal((JobState.Pending, 0, (string?)null), (released.Job!.State, released.Job.Attempts, released.Job.Worker));
        Assert.Equal(ChangeCause.Release, OneChange(released).Cause);
        Assert.Equal(StepOutcome.Done, (await store.ReleaseAsync(job.Id, claimed.ClaimToken!, CancellationToken.None)).Outcome);

        var again = await ClaimAsync();
        var undelivered = await store.GiveBackUndeliveredClaimAsync(job.Id, again.ClaimToken!);
        Assert.Equal((JobState.Pending, ChangeCause.AbandonedClaim), (undelivered.Job!.State, OneChange(undelivered).Cause));
    }

    [Fact]
    public async Task ACancelEndsAPendingJobAndAsksARunningOnesWorker()
    {
        var pending = await CreateAsync("a.mkv");
        var cancelled = await store.CancelAsync(pending.Id, null, "tests", CancellationToken.None);
        Assert.Equal((JobState.Pending, JobState.Cancelled, ChangeCause.Cancel), (OneChange(cancelled).From, OneChange(cancelled).To, OneChange(cancelled).Cause));
        Assert.NotNull(cancelled.Job!.Finished);
        Assert.Equal(StepOutcome.Done, (await store.CancelAsync(pending.Id, null, "tests", CancellationToken.None)).Outcome); // already so
        Assert.Empty((await store.CancelAsync(pending.Id, null, "tests", CancellationToken.None)).Changes);

        var running = await CreateAsync("b.mkv");
        var claimed = await ClaimAsync();
        var asked = await store.CancelAsync(running.Id, null, "tests", CancellationToken.None);
        Assert.Equal((JobState.InProgress, true, ChangeCause.CancelRequest), (asked.Job!.State, asked.Job.CancelRequested, OneChange(asked).Cause));
        Assert.Empty((await store.CancelAsync(running.Id, null, "tests", CancellationToken.None)).Changes);

        var acknowledged = await store.CancelAsync(running.Id, claimed.ClaimToken, null, CancellationToken.None);
        Assert.Equal((JobState.Cancelled, false), (acknowledged.Job!.State, acknowledged.Job.CancelRequested));
        Assert.Equal(StepOutcome.Done, (await store.CancelAsync(running.Id, claimed.ClaimToken, null, CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.StaleClaim, (await store.CancelAsync(running.Id, "other", null, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ACancelOfAnEndedJobIsTheWrongStateAndOfNoJobNotFound()
    {
        var job = await CreateAsync();
        var claimed = await ClaimAsync();
        await store.FinishAsync(job.Id, new FinishReport(claimed.ClaimToken!), CancellationToken.None);
        var refused = await store.CancelAsync(job.Id, null, "tests", CancellationToken.None);
        Assert.Equal((StepOutcome.WrongState, JobState.Finished), (refused.Outcome, refused.Job!.State));
        Assert.Equal(StepOutcome.NotFound, (await store.CancelAsync(999_999, null, "tests", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ARetryRequeuesOnlyAFailedOrCancelledJobWithAFreshStart()
    {
        var job = await CreateAsync();
        Assert.Equal(StepOutcome.WrongState, (await store.RetryAsync(job.Id, "tests", CancellationToken.None)).Outcome);
        var claimed = await ClaimAsync();
        await store.FailAsync(job.Id, new FailureReport("boom", ClaimToken: claimed.ClaimToken), CancellationToken.None);

        var retried = await store.RetryAsync(job.Id, "tests", CancellationToken.None);
        Assert.Equal((JobState.Pending, 0, (string?)null, (long?)null), (retried.Job!.State, retried.Job.Attempts, retried.Job.Error, retried.Job.Finished));
        Assert.Equal((JobState.Failed, JobState.Pending, ChangeCause.Retry), (OneChange(retried).From, OneChange(retried).To, OneChange(retried).Cause));
        Assert.Equal(StepOutcome.NotFound, (await store.RetryAsync(999_999, "tests", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ARequeueThatWouldTakeALiveJobsOutputNameIsRefused()
    {
        var old = await CreateAsync("a.mkv");
        await store.CancelAsync(old.Id, null, "tests", CancellationToken.None);
        await CreateAsync("a.avi", outputName: old.OutputName);

        var refused = await store.ResetAsync(old.Id, "tests", CancellationToken.None);
        Assert.Equal((StepOutcome.OutputTaken, JobState.Cancelled), (refused.Outcome, refused.Job!.State));
        Assert.Equal(StepOutcome.OutputTaken, (await store.RetryAsync(old.Id, "tests", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AResetPutsARunningJobBackAndTheOldClaimIsStale()
    {
        var job = await CreateAsync();
        var claimed = await ClaimAsync();
        var reset = await store.ResetAsync(job.Id, "tests", CancellationToken.None);
        Assert.Equal((JobState.InProgress, JobState.Pending, ChangeCause.Reset), (OneChange(reset).From, OneChange(reset).To, OneChange(reset).Cause));
        Assert.Equal(StepOutcome.StaleClaim, (await store.FinishAsync(job.Id, new FinishReport(claimed.ClaimToken!), CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.NotFound, (await store.ResetAsync(999_999, "tests", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ADeleteRemovesAJobInAnyStateAndAnnouncesNoToState()
    {
        var job = await CreateAsync();
        await ClaimAsync();
        var deleted = await store.DeleteAsync(job.Id, "tests", CancellationToken.None);
        Assert.Equal((JobState.InProgress, (JobState?)null, ChangeCause.Delete), (OneChange(deleted).From, OneChange(deleted).To, OneChange(deleted).Cause));
        Assert.Null(await store.GetAsync(job.Id));
        Assert.Equal(StepOutcome.NotFound, (await store.DeleteAsync(job.Id, "tests", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task ALapsedLeaseEndsAsTheTableSays()
    {
        var retried = await CreateAsync("retried.mkv");
        var usedUp = await CreateAsync("used-up.mkv", maxAttempts: 1);
        var cancelled = await CreateAsync("cancelled.mkv");
        for (var i = 0; i < 3; i++) await ClaimAsync(worker: null);
        await store.CancelAsync(cancelled.Id, null, "tests", CancellationToken.None);
        var kept = await CreateAsync("kept.mkv");
        clock.Advance(TimeSpan.FromSeconds(30));
        var fresh = await ClaimAsync("w2");
        clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(3, await store.ExpireLeasesAsync());
        var back = await StoredAsync(retried.Id);
        Assert.Equal((JobState.Pending, (long?)null, (long?)null), (back.State, back.Started, back.Finished));
        Assert.Equal("The lease expired: worker (unnamed) stopped sending heartbeats (attempt 1 of 3).", back.Error);
        var failed = await StoredAsync(usedUp.Id);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.NotNull(failed.Started);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), failed.Finished);
        Assert.Equal((JobState.Cancelled, (string?)null), ((await StoredAsync(cancelled.Id)).State, (await StoredAsync(cancelled.Id)).Error));
        Assert.Equal(kept.Id, fresh.Id);
        Assert.Equal(JobState.InProgress, (await StoredAsync(kept.Id)).State);
        Assert.Equal(0, await store.ExpireLeasesAsync());
    }

    [Fact]
    public async Task ABulkActionJudgesEachJobAsTheSingleRouteWouldAndRunsEachMoveOnce()
    {
        var running = await CreateAsync("running.mkv");
        await ClaimAsync();
        var finished = await CreateAsync("finished.mkv");
        await ClaimAsync();
        await store.FinishAsync(finished.Id, null, CancellationToken.None);
        var pending = await CreateAsync("pending.mkv");

        var cancel = await store.BulkAsync(JobAction.Cancel, new BulkTarget([running.Id, finished.Id, pending.Id, 999_999], null), "tests", CancellationToken.None);
        Assert.Equal([pending.Id, running.Id], cancel.ChangedIds);
        Assert.Equal([(running.Id, ChangeCause.CancelRequest, JobState.InProgress), (pending.Id, ChangeCause.Cancel, JobState.Cancelled)],
            cancel.Changes.OrderBy(change => change.Job.Id).Select(change => (change.Job.Id, change.Cause, change.Job.State)));
        Assert.Equal([(finished.Id, "finished jobs cannot be cancelled"), (999_999L, "no such job")], cancel.Skipped.Select(skip => (skip.Id, skip.Reason)));

        var again = await store.BulkAsync(JobAction.Cancel, new BulkTarget([running.Id], null), "tests", CancellationToken.None);
        Assert.Equal("a cancel is already waiting for its worker", Assert.Single(again.Skipped).Reason);

        var delete = await store.BulkAsync(JobAction.Delete, new BulkTarget(null, JobFilter.All), "tests", CancellationToken.None);
        Assert.Equal([pending.Id, finished.Id], delete.ChangedIds);
        Assert.All(delete.Changes, change => Assert.Equal((ChangeCause.Delete, (JobState?)null), (change.Cause, change.To)));
        Assert.Equal((running.Id, "running jobs cannot be deleted; cancel them first"), (Assert.Single(delete.Skipped).Id, delete.Skipped[0].Reason));
        Assert.False(delete.MoreMatched);
    }

    [Fact]
    public async Task ABulkRequeueSkipsAJobWhoseOutputNameALiveJobOrANewerOneTookBack()
    {
        var older = await CreateAsync("take1.mkv", outputName: "movie.mp4");
        await store.CancelAsync(older.Id, null, "tests", CancellationToken.None);
        var newer = await CreateAsync("take2.mkv", outputName: "MOVIE.mp4");
        await store.CancelAsync(newer.Id, null, "tests", CancellationToken.None);
        var free = await CreateAsync("free.mkv");
        await store.CancelAsync(free.Id, null, "tests", CancellationToken.None);

        var retry = await store.BulkAsync(JobAction.Retry, new BulkTarget([older.Id, newer.Id, free.Id], null), "tests", CancellationToken.None);
        Assert.Equal([free.Id, newer.Id], retry.ChangedIds);
        Assert.Equal(older.Id, Assert.Single(retry.Skipped).Id);
        Assert.All(retry.Changes, change => Assert.Equal((JobState.Cancelled, JobState.Pending, ChangeCause.Retry), (change.From, change.To, change.Cause)));
    }

    [Fact]
    public async Task SavedProgressLandsOnlyWhileItsClaimHoldsTheJob()
    {
        await CreateAsync("a.mkv");
        await CreateAsync("b.mkv");
        var held = await ClaimAsync();
        var lost = await ClaimAsync();
        await store.ResetAsync(lost.Id, "tests", CancellationToken.None);

        await store.SaveProgressAsync([
            new HeldProgress(held with { Progress = 55, Phase = JobPhase.Encoding }, held.ClaimToken!, clock.GetUtcNow().ToUnixTimeSeconds()),
            new HeldProgress(lost with { Progress = 66 }, lost.ClaimToken!, clock.GetUtcNow().ToUnixTimeSeconds()),
        ]);
        Assert.Equal((55.0, JobPhase.Encoding), ((await StoredAsync(held.Id)).Progress, (await StoredAsync(held.Id)).Phase));
        Assert.Null((await StoredAsync(lost.Id)).Progress);
    }

    [Theory]
    [InlineData("holiday", 2)] // the dialect's indexed search (three or more characters)
    [InlineData("ho", 2)]      // a scan
    [InlineData("xyz", 0)]
    public async Task AListSearchesFileNamesWhateverTheLetterCase(string search, int found)
    {
        await store.CreateAsync([Job("shows/Holiday.mkv"), Job("movies/holiday.mkv"), Job("other.mkv")], null, null, CancellationToken.None);
        // SQLite indexes new jobs for search in the background; until then they are found by name in its backlog.
        var listed = await store.ListAsync(new JobListQuery(new JobFilter(null, search), 50, 0));
        Assert.Equal(found, listed.Count);
    }

    [Fact]
    public async Task RetentionDeletesOnlyEndedJobsOlderThanAskedAndUpkeepRuns()
    {
        var ended = await CreateAsync("ended.mkv");
        await store.CancelAsync(ended.Id, null, "tests", CancellationToken.None);
        var live = await CreateAsync("live.mkv");
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, await store.DeleteEndedAsync(clock.GetUtcNow().ToUnixTimeSeconds() - 60, 100));
        Assert.Equal(1, await store.DeleteEndedAsync(clock.GetUtcNow().ToUnixTimeSeconds(), 100));
        Assert.Null(await store.GetAsync(ended.Id));
        Assert.NotNull(await store.GetAsync(live.Id));
        await store.ForgetOldRecordsAsync();
        await store.ReclaimSpaceAsync();
    }
}
