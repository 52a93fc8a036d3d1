using VideoEncode.Api.Jobs;
using VideoEncode.Api.Queue;
using VideoEncode.Api.Quotas;
using VideoEncode.Api.Schedules;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests.StoreContract;

/// <summary>
/// Quotas per key, schedules and timed pauses as the store keeps them (docs/quotas.md, docs/schedules.md), on whichever store
/// VIDEOENCODE_TEST_STORE selects. The clock is manual and set to the instants each rule turns on (a quota day's reset, a
/// window's edges, both daylight-saving changes of Europe/Berlin in 2026).
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class QuotaScheduleContractTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly IJobStore store;

    public QuotaScheduleContractTests()
    {
        factory = NewHost();
        store = factory.GetService<IJobStore>();
    }

    private QueueFactory NewHost(string? database = null) => new(database, settings: new Dictionary<string, string?>
    {
        ["LeaseSeconds"] = "60", ["LeaseSweepSeconds"] = "3600", ["LeaderLeaseSeconds"] = "7200", ["QuotaResetHour"] = "6",
    }, clock: clock);

    public void Dispose() => factory.Dispose();

    private void SetClock(string utc) => clock.Advance(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture) - clock.GetUtcNow());

    private static NewJob Job(string file) => new(file, "23", "medium");

    private Task<Enqueued> EnqueueAsync(string key, params string[] files) =>
        store.CreateAsync(files.Select(Job).ToList(), null, key, CancellationToken.None);

    private Task<KeyQuota> SetQuotaAsync(string key, Quota quota) => factory.GetService<QuotaStore>().SetAsync(key, quota, "tests");

    private Task<KeyQuota> UsageAsync(string key) => factory.GetService<QuotaStore>().ReadAsync(key);

    private Task<JobStep> ClaimAsync(string? worker = "w1", bool tasks = false) =>
        store.ClaimAsync(tasks ? new ClaimRequest(worker, Encoders: [EncoderCatalog.Libx264]) { TakesTasks = true } : new ClaimRequest(worker),
            legacyClient: false, CancellationToken.None);

    [Fact]
    public async Task JobsPerDayRefusesAWholeRequestOverItAndCountsAgainAfterTheResetHour()
    {
        SetClock("2026-05-04T05:00:00Z");
        await SetQuotaAsync("alice", new Quota(JobsPerDay: 3));
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "a.mkv", "b.mkv")).Outcome);

        var over = await EnqueueAsync("alice", "c.mkv", "d.mkv");
        Assert.Equal(EnqueueOutcome.OverQuota, over.Outcome);
        Assert.Empty(over.Changes);
        // The day started at 06:00 UTC yesterday and starts again in an hour.
        Assert.Equal((Quota.JobsPerDayName, 3L, 3600L), (over.Quota!.Quota, over.Quota.Limit, over.Quota.RetryAfterSeconds));
        Assert.Equal(2, (await store.ListAsync(new JobListQuery(JobFilter.All, 100, 0))).Count);
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "c.mkv")).Outcome);
        Assert.Equal(EnqueueOutcome.OverQuota, (await EnqueueAsync("alice", "d.mkv")).Outcome);
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("bob", "d.mkv", "e.mkv", "f.mkv", "g.mkv")).Outcome);   // no quota

        SetClock("2026-05-04T06:00:00Z");
        var usage = (await UsageAsync("alice")).Usage;
        Assert.Equal((0L, DateTimeOffset.Parse("2026-05-04T06:00:00Z").ToUnixTimeSeconds()), (usage.Jobs, usage.DayStartedAt));
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "h.mkv", "i.mkv", "j.mkv")).Outcome);
        Assert.Equal(3, (await UsageAsync("alice")).Usage.Jobs);
    }

    [Fact]
    public async Task MaxPendingCountsPendingJobsNotTheirTasks()
    {
        await SetQuotaAsync("alice", new Quota(MaxPending: 2));
        var twoOutputs = new NewJob("movie.mkv", "23", "fast")
        {
            Settings = EncodeSettings.Defaults with { Crf = "23", Preset = "fast" },
            Outputs = [new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 240 }, "small.mp4", false, null),
                       new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 144 }, "tiny.mp4", false, null)],
        };
        Assert.Equal(EnqueueOutcome.Created, (await store.CreateAsync([twoOutputs], null, "alice", CancellationToken.None)).Outcome);
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "a.mkv")).Outcome);

        var over = await EnqueueAsync("alice", "b.mkv");
        Assert.Equal((EnqueueOutcome.OverQuota, Quota.MaxPendingName, QuotaRules.PendingRetrySeconds), (over.Outcome, over.Quota!.Quota, over.Quota.RetryAfterSeconds));
        Assert.Equal(2, (await UsageAsync("alice")).Usage.Pending);

        Assert.Equal(StepOutcome.Done, (await ClaimAsync()).Outcome);   // a.mkv: the plain job
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "b.mkv")).Outcome);
    }

    [Fact]
    public async Task EncodeSecondsAreTheFinishedJobsInputDurationsAndRefuseOnceReached()
    {
        SetClock("2026-05-04T12:00:00Z");
        await SetQuotaAsync("alice", new Quota(EncodeSecondsPerDay: 100));
        var jobs = (await EnqueueAsync("alice", "a.mkv", "b.mkv", "c.mkv")).Jobs;

        var first = (await ClaimAsync()).Job!;
        await store.FinishAsync(first.Id, new FinishReport(first.ClaimToken!, InputSeconds: 60.5), CancellationToken.None);
        // Repeating the finish changes nothing and counts nothing.
        await store.FinishAsync(first.Id, new FinishReport(first.ClaimToken!, InputSeconds: 60.5), CancellationToken.None);
        Assert.Equal(60.5, (await UsageAsync("alice")).Usage.EncodeSeconds);
        Assert.Equal(EnqueueOutcome.Created, (await EnqueueAsync("alice", "d.mkv")).Outcome);

        var second = (await ClaimAsync()).Job!;
        await store.FinishAsync(second.Id, new FinishReport(second.ClaimToken!, InputSeconds: 40), CancellationToken.None);
        Assert.Equal(100.5, (await UsageAsync("alice")).Usage.EncodeSeconds);
        var over = await EnqueueAsync("alice", "e.mkv");
        Assert.Equal((EnqueueOutcome.OverQuota, Quota.EncodeSecondsPerDayName), (over.Outcome, over.Quota!.Quota));
        Assert.Equal(18 * 3600L, over.Quota.RetryAfterSeconds);   // until 06:00 UTC
        Assert.Equal(3, jobs.Count);
    }

    [Fact]
    public async Task AJobMadeOfTasksCountsItsInputOnceWhenItFinishes()
    {
        var twoOutputs = new NewJob("movie.mkv", "23", "fast")
        {
            Settings = EncodeSettings.Defaults with { Crf = "23", Preset = "fast" },
            Outputs = [new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 240 }, "small.mp4", false, null),
                       new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 144 }, "tiny.mp4", false, null)],
        };
        await store.CreateAsync([twoOutputs], null, "alice", CancellationToken.None);
        var first = (await ClaimAsync(tasks: true)).Job!;
        var second = (await ClaimAsync(tasks: true)).Job!;

        await store.FinishAsync(first.Id, new FinishReport(first.ClaimToken!, OutputBytes: 10, InputSeconds: 30), CancellationToken.None);
        Assert.Equal(0, (await UsageAsync("alice")).Usage.EncodeSeconds);
        await store.FinishAsync(second.Id, new FinishReport(second.ClaimToken!, OutputBytes: 10, InputSeconds: 30), CancellationToken.None);

        Assert.Equal((1L, 30.0), ((await UsageAsync("alice")).Usage.Jobs, (await UsageAsync("alice")).Usage.EncodeSeconds));
    }

    /// <summary>
    /// Many enqueues of one key at once, each of one or two jobs, against a quota of 10 per day: the jobs stored never pass 10,
    /// and the usage counted is exactly the jobs stored (none counted twice, none lost), on SQLite's single writer and on
    /// PostgreSQL's concurrent transactions alike.
    /// </summary>
    [Fact]
    public async Task ConcurrentEnqueuesNeverExceedAQuotaNorCountTwice()
    {
        await SetQuotaAsync("alice", new Quota(JobsPerDay: 10));
        var requests = Enumerable.Range(0, 24).Select(i => Task.Run(() => EnqueueAsync("alice", i % 3 == 0 ? [$"{i}a.mkv", $"{i}b.mkv"] : [$"{i}.mkv"])));
        var answers = await Task.WhenAll(requests);

        var stored = (await store.ListAsync(new JobListQuery(JobFilter.All, 100, 0))).Count;
        Assert.Equal(answers.Sum(answer => answer.Jobs.Count), stored);
        Assert.InRange(stored, 9, 10);   // 9 only when every request left is a pair
        Assert.Equal(stored, (await UsageAsync("alice")).Usage.Jobs);
        Assert.All(answers.Where(answer => answer.Outcome != EnqueueOutcome.Created), answer => Assert.Equal(EnqueueOutcome.OverQuota, answer.Outcome));
    }

    /// <summary>
    /// A window from 22:00 to 06:00 Berlin time, every day, across the spring-forward night (2026-03-29, 02:00 CET → 03:00 CEST)
    /// and the fall-back night (2026-10-25, 03:00 CEST → 02:00 CET): it opens at 22:00 local and closes at 06:00 local whatever
    /// the offset, and a claim outside it gets nothing and is told when it opens.
    /// </summary>
    [Fact]
    public async Task AScheduleAcrossMidnightHoldsItsLocalHoursAcrossBothDaylightSavingChanges()
    {
        await EnqueueAsync("tests", "a.mkv", "b.mkv", "c.mkv", "d.mkv");
        await factory.GetService<ScheduleStore>().SetAsync(ScheduleBook.Queue,
            new Schedule("Europe/Berlin", [new ScheduleWindow(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "22:00", "06:00")]), "tests");

        SetClock("2026-03-28T20:59:59Z");   // 21:59:59 CET
        var closed = await ClaimAsync();
        Assert.Equal(StepOutcome.OutsideSchedule, closed.Outcome);
        Assert.Null(closed.Job);
        Assert.Equal(DateTimeOffset.Parse("2026-03-28T21:00:00Z").ToUnixTimeSeconds(), closed.OpensAt);
        SetClock("2026-03-28T21:00:00Z");
        Assert.Equal(StepOutcome.Done, (await ClaimAsync()).Outcome);
        SetClock("2026-03-29T03:59:59Z");   // 05:59:59 CEST: the night was an hour shorter
        Assert.Equal(StepOutcome.Done, (await ClaimAsync()).Outcome);
        SetClock("2026-03-29T04:00:00Z");   // 06:00 CEST
        var morning = await ClaimAsync();
        Assert.Equal((StepOutcome.OutsideSchedule, DateTimeOffset.Parse("2026-03-29T20:00:00Z").ToUnixTimeSeconds()), (morning.Outcome, morning.OpensAt));

        SetClock("2026-10-25T04:59:59Z");   // 05:59:59 CET: the night was an hour longer
        Assert.Equal(StepOutcome.Done, (await ClaimAsync()).Outcome);
        SetClock("2026-10-25T05:00:00Z");   // 06:00 CET
        var after = await ClaimAsync();
        Assert.Equal((StepOutcome.OutsideSchedule, DateTimeOffset.Parse("2026-10-25T21:00:00Z").ToUnixTimeSeconds()), (after.Outcome, after.OpensAt));
        Assert.Single(await store.ListAsync(new JobListQuery(new JobFilter("pending", null), 100, 0)));
    }

    [Fact]
    public async Task AWorkersScheduleHoldsOnlyItAndNoTaskGoesOutsideIt()
    {
        SetClock("2026-05-04T12:00:00Z");   // a Monday
        var twoOutputs = new NewJob("movie.mkv", "23", "fast")
        {
            Settings = EncodeSettings.Defaults with { Crf = "23", Preset = "fast" },
            Outputs = [new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 240 }, "small.mp4", false, null),
                       new NewOutput(EncodeSettings.Defaults with { Crf = "23", Preset = "fast", MaxHeight = 144 }, "tiny.mp4", false, null)],
        };
        await store.CreateAsync([twoOutputs], null, "tests", CancellationToken.None);
        var schedules = factory.GetService<ScheduleStore>();
        var view = await schedules.SetAsync("night", new Schedule("UTC", [new ScheduleWindow(["sat", "sun"], "00:00", "00:00")]), "tests");
        Assert.Equal((false, DateTimeOffset.Parse("2026-05-09T00:00:00Z").ToUnixTimeSeconds()), (view.Open, view.OpensAt));

        var refused = await ClaimAsync("night", tasks: true);
        Assert.Equal((StepOutcome.OutsideSchedule, DateTimeOffset.Parse("2026-05-09T00:00:00Z").ToUnixTimeSeconds()), (refused.Outcome, refused.OpensAt));
        Assert.NotNull((await ClaimAsync("day", tasks: true)).Job);

        // The queue's schedule holds every worker, and a worker's is held on top of it: both must be open.
        await schedules.SetAsync(ScheduleBook.Queue, new Schedule("UTC", [new ScheduleWindow(["sat"], "12:00", "13:00")]), "tests");
        Assert.Equal(DateTimeOffset.Parse("2026-05-09T12:00:00Z").ToUnixTimeSeconds(), (await ClaimAsync("night", tasks: true)).OpensAt);
        Assert.Equal(StepOutcome.OutsideSchedule, (await ClaimAsync("day", tasks: true)).Outcome);
        Assert.True(await schedules.DeleteAsync(ScheduleBook.Queue, "tests"));
        Assert.True(await schedules.DeleteAsync("night", "tests"));
        Assert.NotNull((await ClaimAsync("night", tasks: true)).Job);
    }

    [Fact]
    public async Task ATimedPauseEndsByItselfAcrossAHostRestart()
    {
        var database = TestStore.NewDatabase();
        try
        {
            using (var first = NewHost(database))
            {
                await first.GetService<IJobStore>().CreateAsync([Job("a.mkv")], null, "tests", CancellationToken.None);
                var paused = await first.GetService<QueueControl>().PauseAsync("tests", minutes: 30);
                Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 1800, paused.ResumeAt);
                Assert.Equal(StepOutcome.Paused, (await first.GetService<IJobStore>().ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome);
            }

            clock.Advance(TimeSpan.FromMinutes(30));
            using var restarted = NewHost(database);
            var queue = restarted.GetService<QueueControl>();
            Assert.False((await queue.StateAsync()).Paused);
            Assert.Equal(StepOutcome.Done, (await restarted.GetService<IJobStore>().ClaimAsync(new ClaimRequest("w1"), false, CancellationToken.None)).Outcome);
            await queue.EndTimedPauseAsync();
            Assert.Null((await queue.StateAsync()).ResumeAt);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }
}
