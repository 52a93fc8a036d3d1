using VideoEncode.Api.Jobs;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests.StoreContract;

/// <summary>
/// Jobs made of tasks, on whichever store VIDEOENCODE_TEST_STORE selects: the tasks a job is made of, who may claim
/// them, how their changes sum up into their job, a split job's plan adding its chunks and its join waiting for them,
/// and a person's action on the job reaching its tasks.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class TaskContractTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly IJobStore store;

    /// <summary>A claim of a worker that runs tasks: it speaks the tasks protocol and lists its encoders.</summary>
    private static readonly ClaimRequest TaskClaim = new("w1", Encoders: [EncoderCatalog.Libx264, "libvpx-vp9"]) { TakesTasks = true };

    public TaskContractTests()
    {
        factory = new QueueFactory(settings: new Dictionary<string, string?>
        {
            ["LeaseSeconds"] = "60", ["RetryBackoffSeconds"] = "30", ["LeaseSweepSeconds"] = "3600", ["LeaderLeaseSeconds"] = "7200",
        }, clock: clock);
        store = factory.GetService<IJobStore>();
    }

    public void Dispose() => factory.Dispose();

    private static EncodeSettings H264(int? height = null) => EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = height };

    private static NewJob TwoOutputs(string file = "movies/a.mkv") => new(file, "23", "fast)")
    {
        Settings = H264(),
        Outputs =
        [
            new NewOutput(H264(240), "small.mp4", false, null),
            new NewOutput(EncodeSettings.Defaults with { VideoCodec = VideoCodecs.Vp9, Encoder = "libvpx-vp9", Crf = "32", Preset = "4", Container = Containers.Webm,
                Audio = AudioCodecs.Opus, MaxHeight = 144 }, null, false, null),
        ],
    };

    private static NewJob Split(int seconds = 10) => new("film.mkv", "23", "fast") { Settings = H264() with { SplitSeconds = seconds } };

    private async Task<Enqueued> CreateAsync(NewJob job) => await store.CreateAsync([job], null, "tests", CancellationToken.None);

    private async Task<Job?> ClaimAsync(ClaimRequest claim)
    {
        var step = await store.ClaimAsync(claim, legacyClient: false, CancellationToken.None);
        return step.Outcome == StepOutcome.Done ? step.Job : null;
    }

    private async Task<JobTasksView> TasksAsync(long id) => (await store.TasksAsync(id))!;

    private Task<JobStep> FinishAsync(Job task, SplitPlan? plan = null, long bytes = 1000) =>
        store.FinishAsync(task.Id, new FinishReport(task.ClaimToken!, OutputBytes: bytes, Codec: "h264", Height: 240, Plan: plan), CancellationToken.None);

    [Fact]
    public async Task AJobWithOutputsIsOneJobOfOneEncodeTaskPerOutputEachNamedByTheRules()
    {
        var enqueued = await CreateAsync(TwoOutputs());

        var job = Assert.Single(enqueued.Jobs);
        Assert.True(job.HasTasks);
        Assert.Null(job.OutputName);
        var tasks = (await TasksAsync(job.Id)).Tasks;
        Assert.Equal([(0, TaskKinds.Encode, "small.mp4"), (1, TaskKinds.Encode, "movies/a.webm")], tasks.Select(task => (task.Index, task.Kind, task.OutputName)));
        Assert.All(tasks, task => Assert.Equal(JobStatus.Pending, task.Status));
        // The list shows the job, never its tasks; every task was announced, so waiting claims wake.
        Assert.Equal([job.Id], (await store.ListAsync(new JobListQuery(JobFilter.All, 50, 0))).Select(listed => listed.Id));
        Assert.Equal(3, enqueued.Changes.Count);
    }

    [Fact]
    public async Task AnOutputNameATaskHoldsIsTakenForOtherJobsAndTwoOutputsMayNotShareOne()
    {
        await CreateAsync(TwoOutputs());

        var clash = await CreateAsync(new NewJob("other.mkv", "23", "fast", OutputName: "small.mp4"));
        Assert.Equal((EnqueueOutcome.OutputTaken, "small.mp4"), (clash.Outcome, clash.Name));
        var twice = TwoOutputs("b.mkv") with { Outputs = [new NewOutput(H264(), "same.mp4", false, null), new NewOutput(H264(240), "same.mp4", false, null)] };
        Assert.Equal(EnqueueOutcome.OutputTaken, (await CreateAsync(twice)).Outcome);
    }

    [Fact]
    public async Task OnlyAWorkerThatRunsTasksGetsThemAndTheJobItselfIsNeverClaimed()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs())).Jobs);

        Assert.Null(await ClaimAsync(new ClaimRequest("old")));
        Assert.Null(await ClaimAsync(new ClaimRequest("old-with-encoders", Encoders: [EncoderCatalog.Libx264, "libvpx-vp9"])));
        var first = (await ClaimAsync(TaskClaim))!;
        var second = (await ClaimAsync(TaskClaim))!;
        Assert.Null(await ClaimAsync(TaskClaim));

        Assert.Equal([0, 1], new[] { first, second }.Select(task => task.Task!.Index).Order());
        Assert.All(new[] { first, second }, task => Assert.Equal(job.Id, task.Task!.JobId));
        Assert.Equal(JobState.InProgress, (await store.GetAsync(job.Id))!.State);
    }

    [Fact]
    public async Task TheJobFinishesWhenEveryTaskHasAndListsItsOutputs()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs())).Jobs);
        var first = (await ClaimAsync(TaskClaim))!;
        var second = (await ClaimAsync(TaskClaim))!;

        await FinishAsync(first, bytes: 1000);
        var half = (await store.GetAsync(job.Id))!;
        Assert.Equal((JobState.InProgress, 50.0), (half.State, half.Progress));
        await FinishAsync(second, bytes: 500);

        var done = (await store.GetAsync(job.Id))!;
        Assert.Equal((JobState.Finished, 100.0, 1500L), (done.State, done.Progress, done.OutputBytes));
        Assert.NotNull(done.Finished);
        var outputs = (await TasksAsync(job.Id)).Outputs;
        Assert.Equal(["small.mp4", "movies/a.webm"], outputs.Select(output => output.Name));
        Assert.All(outputs, output => Assert.Equal(("h264", 240, JobStatus.Finished), (output.Codec, output.Height, output.Status)));
    }

    [Fact]
    public async Task ATaskThatFailsForGoodFailsTheJobAndStopsTheOthers()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs() with
        {
            Outputs = [.. TwoOutputs().Outputs!, new NewOutput(H264(360), "third.mp4", false, null)],
        })).Jobs);
        var running = (await ClaimAsync(TaskClaim))!;
        var failing = (await ClaimAsync(TaskClaim))!;

        await store.FailAsync(failing.Id, new FailureReport("ffmpeg exited with code 1", ClaimToken: failing.ClaimToken), CancellationToken.None);

        var failed = (await store.GetAsync(job.Id))!;
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal($"Task {failing.Task!.Index} (encode) failed: ffmpeg exited with code 1", failed.Error);
        var tasks = (await TasksAsync(job.Id)).Tasks.ToDictionary(task => task.Id);
        Assert.Equal(JobStatus.Cancelled, tasks.Values.Single(task => task.Id != running.Id && task.Id != failing.Id).Status);
        Assert.True((await store.GetAsync(running.Id))!.CancelRequested);   // its worker hears it with its next heartbeat

        // Retrying the job retries the tasks that did not finish.
        await store.CancelAsync(running.Id, running.ClaimToken, null, CancellationToken.None);
        Assert.Equal(StepOutcome.Done, (await store.RetryAsync(job.Id, "tests", CancellationToken.None)).Outcome);
        Assert.Equal(JobState.Pending, (await store.GetAsync(job.Id))!.State);
        Assert.All((await TasksAsync(job.Id)).Tasks, task => Assert.Equal(JobStatus.Pending, task.Status));
    }

    [Fact]
    public async Task CancellingTheJobCancelsItsTasksAndDeletingItDeletesThem()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs())).Jobs);
        var running = (await ClaimAsync(TaskClaim))!;

        var cancel = await store.CancelAsync(job.Id, null, "tests", CancellationToken.None);
        Assert.Equal(StepOutcome.Done, cancel.Outcome);
        Assert.True((await store.GetAsync(running.Id))!.CancelRequested);
        await store.CancelAsync(running.Id, running.ClaimToken, null, CancellationToken.None);
        Assert.Equal(JobState.Cancelled, (await store.GetAsync(job.Id))!.State);

        // A person acts on the job, not on one of its tasks.
        Assert.Equal(StepOutcome.WrongState, (await store.ResetAsync(running.Id, "tests", CancellationToken.None)).Outcome);
        Assert.Equal(StepOutcome.Done, (await store.DeleteAsync(job.Id, "tests", CancellationToken.None)).Outcome);
        Assert.Null(await store.GetAsync(running.Id));
    }

    [Fact]
    public async Task ASplitJobIsPlannedThenChunkedAndItsJoinWaitsForEveryPart()
    {
        var job = Assert.Single((await CreateAsync(Split())).Jobs);
        var plan = (await ClaimAsync(TaskClaim))!;
        Assert.Equal((TaskKinds.Plan, 10), (plan.Task!.Kind, plan.Task.SplitSeconds));
        Assert.Null(await ClaimAsync(TaskClaim));   // the join waits

        Assert.Equal(StepOutcome.ReportRefused, (await FinishAsync(plan)).Outcome);   // a plan's finish carries its plan
        var cuts = new SplitPlan([new ChunkCut(0, 10.04, 251), new ChunkCut(10.04, 20, 249)]);
        Assert.Equal(StepOutcome.Done, (await FinishAsync(plan, cuts)).Outcome);

        var tasks = (await TasksAsync(job.Id)).Tasks;
        Assert.Equal([TaskKinds.Plan, TaskKinds.Join, TaskKinds.Audio, TaskKinds.Chunk, TaskKinds.Chunk], tasks.Select(task => task.Kind));
        Assert.Equal([(0.0, 10.04), (10.04, 20.0)], tasks.Where(task => task.Kind == TaskKinds.Chunk).Select(task => (task.StartSeconds!.Value, task.EndSeconds!.Value)));
        var parts = new List<Job>();
        for (var i = 0; i < 3; i++) parts.Add((await ClaimAsync(TaskClaim))!);
        Assert.DoesNotContain(parts, part => part.Task!.Kind == TaskKinds.Join);
        Assert.Null(await ClaimAsync(TaskClaim));
        foreach (var part in parts) await FinishAsync(part);

        var join = (await ClaimAsync(TaskClaim))!;
        Assert.Equal(TaskKinds.Join, join.Task!.Kind);
        Assert.Equal("film.mp4", join.OutputName);
        Assert.Equal([TaskKinds.Chunk, TaskKinds.Chunk, TaskKinds.Audio], join.Task.Parts!.Select(part => part.Kind));
        Assert.Equal([251L, 249L], join.Task.Parts!.Where(part => part.Kind == TaskKinds.Chunk).Select(part => part.Frames!.Value));
        await FinishAsync(join);
        Assert.Equal(JobState.Finished, (await store.GetAsync(job.Id))!.State);
    }

    [Fact]
    public async Task ALapsedTaskLeaseCostsThatTaskOnly()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs())).Jobs);
        var kept = (await ClaimAsync(TaskClaim))!;
        var lost = (await ClaimAsync(TaskClaim))!;
        await store.HeartbeatAsync(kept.Id, new Heartbeat(kept.ClaimToken!, 50), CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(45));
        await store.HeartbeatAsync(kept.Id, new Heartbeat(kept.ClaimToken!, 60), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await store.ExpireLeasesAsync());

        Assert.Equal(JobState.Pending, (await store.GetAsync(lost.Id))!.State);
        Assert.Equal(JobState.InProgress, (await store.GetAsync(kept.Id))!.State);
        Assert.Equal(JobState.InProgress, (await store.GetAsync(job.Id))!.State);
        Assert.Equal(lost.Id, (await ClaimAsync(TaskClaim))!.Id);
    }

    [Fact]
    public async Task ABulkActionReachesTheTasksOfTheJobsItChangesADeleteTakesThem()
    {
        var job = Assert.Single((await CreateAsync(TwoOutputs())).Jobs);
        var tasks = (await TasksAsync(job.Id)).Tasks;

        var cancelled = await store.BulkAsync(JobAction.Cancel, new BulkTarget([job.Id], null), "tests", CancellationToken.None);
        Assert.Equal([job.Id], cancelled.ChangedIds);
        Assert.Equal(JobState.Cancelled, (await store.GetAsync(job.Id))!.State);
        Assert.All((await TasksAsync(job.Id)).Tasks, task => Assert.Equal(JobStatus.Cancelled, task.Status));

        var deleted = await store.BulkAsync(JobAction.Delete, new BulkTarget(null, JobFilter.All), "tests", CancellationToken.None);
        Assert.Equal([job.Id], deleted.ChangedIds);
        foreach (var task in tasks) Assert.Null(await store.GetAsync(task.Id));
    }
}
