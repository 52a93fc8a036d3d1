using VideoEncode.Api.Changes;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Upkeep;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Leases, fencing, retries, cancel, priority and long-poll claims, on a clock the test moves.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class LeaseTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public LeaseTests()
    {
        factory = new QueueFactory(settings: new Dictionary<string, string?>
        {
            ["LeaseSeconds"] = "30",
            ["LegacyLeaseSeconds"] = "7200",
            ["RetryBackoffSeconds"] = "10",
            ["LeaseSweepSeconds"] = "3600",   // sweeps happen when the test says so
            ["LeaderLeaseSeconds"] = "7200",  // at least two sweeps, as PostgreSQL requires
        }, clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task AClaimCarriesAFreshTokenAndALeaseThatOnlyTheClaimerSees()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("a"), QueueCalls.NewJob("b"));
        var first = await Claim(worker: "encoder-1");
        var second = await Claim();

        Assert.Matches("^[0-9a-f]{32}$", first.ClaimToken);
        Assert.NotEqual(first.ClaimToken, second.ClaimToken);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 30, first.LeaseExpiresAt);
        Assert.Equal("encoder-1", first.Worker);
        Assert.Equal(1, first.Attempts);
        Assert.All(await client.ListAsync(), job => Assert.Null(job.ClaimToken));
        Assert.Null((await Get(first.Id)).ClaimToken);
        Assert.DoesNotContain(first.ClaimToken!, await client.GetStringAsync("/api/jobs"));
    }

    [Fact]
    public async Task ClaimsThroughTheOriginalGetRouteGetTheLongLease()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var job = await client.GetFromJsonAsync<Job>("/api/jobs/claim", WireJson.Options);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 7200, job!.LeaseExpiresAt);
    }

    [Fact]
    public async Task AnExpiredLeaseReturnsTheJobSoAnotherWorkerCanFinishIt()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var stale = await Claim(worker: "dies");
        clock.Advance(TimeSpan.FromSeconds(31));
        await Expire();

        var pending = await Get(job.Id);
        Assert.Equal(JobStatus.Pending, pending.Status);
        Assert.Contains("lease expired", pending.Error);
        var fresh = await Claim(worker: "lives");
        Assert.Equal(job.Id, fresh.Id);
        Assert.Equal(2, fresh.Attempts);

        // The stale worker comes back: every step it tries answers 409 and changes nothing.
        var staleSteps = new[]
        {
            await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(stale.ClaimToken!), WireJson.Options),
            await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport("late", ClaimToken: stale.ClaimToken), WireJson.Options),
            await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new Heartbeat(stale.ClaimToken!, 50), WireJson.Options),
            await client.PostAsJsonAsync($"/api/jobs/{job.Id}/release", new ClaimProof(stale.ClaimToken!), WireJson.Options),
            await client.PostAsJsonAsync($"/api/jobs/{job.Id}/cancel", new ClaimProof(stale.ClaimToken!), WireJson.Options),
        };
        foreach (var response in staleSteps)
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("no longer the job's current claim", await QueueCalls.ErrorOf(response));
        }
        var running = await Get(job.Id);
        Assert.Equal((JobStatus.InProgress, "lives", (double?)null), (running.Status, running.Worker, running.Progress));

        var finish = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(fresh.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
        Assert.Equal(1, factory.LogLines.Count(line => line.Contains($"Job {job.Id}: in_progress -> finished")));
        // A repeat of the finish that landed is harmless.
        var again = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(fresh.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task HeartbeatsRenewTheLeaseAndRecordProgress()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var job = await Claim();
        clock.Advance(TimeSpan.FromSeconds(25));
        var beat = await Beat(job, 42.5);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 30, beat.LeaseExpiresAt);
        Assert.Equal(42.5, beat.Progress);
        Assert.False(beat.CancelRequested);

        clock.Advance(TimeSpan.FromSeconds(25)); // 50 s after the claim, 25 after the heartbeat
        await Expire();
        Assert.Equal(JobStatus.InProgress, (await Get(job.Id)).Status);
    }

    [Fact]
    public async Task AfterMaxAttemptsAnExpiredLeaseFailsTheJob()
    {
        var job = (await client.EnqueueAsync(new { file_name = "flaky.mkv", crf = "23", preset = "fast", max_attempts = 2 }))[0];
        Assert.Equal(2, job.MaxAttempts);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Equal(attempt, (await Claim()).Attempts);
            clock.Advance(TimeSpan.FromSeconds(31));
            await Expire();
        }
        var failed = await Get(job.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("attempt 2 of 2", failed.Error);
        Assert.NotNull(failed.Finished);
        Assert.Null(await client.ClaimAsync());
    }

    [Fact]
    public async Task ARetryableFailureComesBackAfterADoublingBackoffUntilAttemptsRunOut()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];

        var first = await Claim();
        var failed = await Fail(first, retryable: true);
        Assert.Equal(JobStatus.Pending, failed.Status);
        Assert.Null(failed.Started);
        Assert.Null(await client.ClaimAsync());                 // not before its backoff
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Null(await client.ClaimAsync());
        clock.Advance(TimeSpan.FromSeconds(1));                 // 10 s: the first backoff
        var second = await Claim();
        Assert.Equal(2, second.Attempts);

        await Fail(second, retryable: true);
        clock.Advance(TimeSpan.FromSeconds(19));
        Assert.Null(await client.ClaimAsync());
        clock.Advance(TimeSpan.FromSeconds(1));                 // 20 s: doubled
        var third = await Claim();

        var final = await Fail(third, retryable: true);         // attempt 3 of 3: no more
        Assert.Equal(JobStatus.Failed, final.Status);
        Assert.Contains("no attempts left", final.Error);
        Assert.Equal(job.Id, final.Id);
    }

    [Fact]
    public async Task ANonRetryableFailureFailsAtOnce()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        Assert.Equal(JobStatus.Failed, (await Fail(await Claim(), retryable: false)).Status);
    }

    [Fact]
    public async Task HigherPriorityIsClaimedFirstThenOlder()
    {
        var jobs = await client.EnqueueAsync(
            new { file_name = "normal-old", crf = "23", preset = "fast" },
            new { file_name = "urgent-old", crf = "23", preset = "fast", priority = 5 },
            new { file_name = "low", crf = "23", preset = "fast", priority = -1 },
            new { file_name = "urgent-new", crf = "23", preset = "fast", priority = 5 },
            new { file_name = "normal-new", crf = "23", preset = "fast", priority = 0 });
        var order = new List<string>();
        while (await client.ClaimAsync() is { } job) order.Add(job.FileName);
        Assert.Equal(["urgent-old", "urgent-new", "normal-old", "normal-new", "low"], order);
        Assert.Equal(5, jobs[1].Priority);
    }

    [Fact]
    public async Task CancellingAPendingJobEndsItAtOnceAndRetryBringsItBack()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var cancelled = await Post($"/api/jobs/{job.Id}/cancel");
        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Null(await client.ClaimAsync());
        Assert.Equal([job.Id], (await client.ListAsync("status=cancelled")).Select(j => j.Id));

        var again = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);        // already cancelled: harmless

        var retried = await Post($"/api/jobs/{job.Id}/retry");
        Assert.Equal((JobStatus.Pending, 0), (retried.Status, retried.Attempts));
        Assert.Equal(job.Id, (await Claim()).Id);
    }

    [Fact]
    public async Task CancellingARunningJobWaitsForItsWorkerToAcknowledge()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await Claim();

        var requested = await Post($"/api/jobs/{job.Id}/cancel");
        Assert.Equal(JobStatus.InProgress, requested.Status);
        Assert.True(requested.CancelRequested);
        Assert.True((await Beat(claimed, 10)).CancelRequested);    // the worker learns it from its heartbeat

        var acknowledged = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/cancel", new ClaimProof(claimed.ClaimToken!), WireJson.Options);
        var ended = await acknowledged.Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(JobStatus.Cancelled, ended!.Status);
        Assert.False(ended.CancelRequested);
    }

    [Fact]
    public async Task ACancelWaitingOnADeadWorkerEndsWhenTheLeaseDoes()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await Claim();
        await Post($"/api/jobs/{job.Id}/cancel");
        clock.Advance(TimeSpan.FromSeconds(31));
        await Expire();
        Assert.Equal(JobStatus.Cancelled, (await Get(job.Id)).Status);
    }

    [Fact]
    public async Task OnlyPendingAndRunningJobsCanBeCancelledAndOnlyEndedOnesRetried()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var retryPending = await client.PostAsync($"/api/jobs/{job.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, retryPending.StatusCode);
        Assert.Contains("only failed and cancelled jobs", await QueueCalls.ErrorOf(retryPending));

        var claimed = await Claim();
        await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(claimed.ClaimToken!), WireJson.Options);
        var cancelFinished = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, cancelFinished.StatusCode);
        Assert.Contains("only pending and running jobs", await QueueCalls.ErrorOf(cancelFinished));
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/jobs/999/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task AReleasedJobIsPendingAgainAndTheAttemptDoesNotCount()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await Claim();
        var released = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/release", new ClaimProof(claimed.ClaimToken!), WireJson.Options);
        var pending = await released.Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal((JobStatus.Pending, 0), (pending!.Status, pending.Attempts));
        Assert.Equal(1, (await Claim()).Attempts);
    }

    [Fact]
    public async Task ALongPollClaimIsAnsweredWithAJobEnqueuedWhileItWaits()
    {
        var waiters = factory.GetService<ClaimWaiters>();
        var waiting = Task.Run(() => client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("idle", 30), WireJson.Options));
        await Eventually.TrueAsync(() => waiters.Count == 1, () => "the claim is not waiting");
        Assert.False(waiting.IsCompleted);

        await factory.CreateApiClient().EnqueueAsync(QueueCalls.NewJob("arrives.mkv"));
        var response = await waiting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("arrives.mkv", (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.FileName);
    }

    [Fact]
    public async Task ALongPollClaimAnswers404WhenTheWaitRunsOut()
    {
        var response = await client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("idle", 0.5), WireJson.Options);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"error":"No jobs available"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, factory.GetService<ClaimWaiters>().Count);
    }

    [Fact]
    public async Task ManyWaitingClaimsShareEachJobExactlyOnce()
    {
        var waiters = Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            factory.CreateApiClient().PostAsJsonAsync("/api/jobs/claim", new ClaimRequest($"w{i}", 5), WireJson.Options))).ToList();
        var line = factory.GetService<ClaimWaiters>();
        // All in line (or one already gave up, which the counts below then show at once).
        await Eventually.TrueAsync(() => line.Count == 20 || waiters.Any(waiter => waiter.IsCompleted), () => $"{line.Count} of 20 claims waiting");
        await client.EnqueueAsync(Enumerable.Range(0, 5).Select(i => QueueCalls.NewJob($"{i}.mkv")).ToArray());
        var answers = await Task.WhenAll(waiters);
        var claimed = new List<long>();
        foreach (var answer in answers.Where(a => a.StatusCode == HttpStatusCode.OK))
            claimed.Add((await answer.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Id);
        Assert.Equal(5, claimed.Count);
        Assert.Equal(5, claimed.Distinct().Count());
        Assert.Equal(15, answers.Count(a => a.StatusCode == HttpStatusCode.NotFound));
    }

    [Theory]
    [InlineData("/api/jobs/claim", """{"wait": 61}""", "wait")]
    [InlineData("/api/jobs/claim", """{"wait": "soon"}""", "wait")]
    [InlineData("/api/jobs/claim", """{"worker": 7}""", "worker")]
    [InlineData("/api/jobs/claim", "[1]", "body")]
    [InlineData("/api/jobs/1/heartbeat", """{}""", "claim_token")]
    [InlineData("/api/jobs/1/heartbeat", """{"claim_token": "x", "progress": 101}""", "progress")]
    [InlineData("/api/jobs/1/release", """{"claim_token": 5}""", "claim_token")]
    [InlineData("/api/jobs/1/finish", """{"claim_token": ""}""", "claim_token")]
    [InlineData("/api/jobs/1/fail", """{"claim_token": "x", "error": "x", "retryable": "yes"}""", "retryable")]
    public async Task BadWorkerRequestsAnswer400AndChangeNothing(string path, string body, string mentioned)
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(mentioned, await QueueCalls.ErrorOf(response));
        Assert.Equal(JobStatus.Pending, (await client.ListAsync())[0].Status);
    }

    [Theory]
    [InlineData("""{"file_name": "a", "crf": "23", "preset": "fast", "priority": 1.5}""", "priority")]
    [InlineData("""{"file_name": "a", "crf": "23", "preset": "fast", "priority": "high"}""", "priority")]
    [InlineData("""{"file_name": "a", "crf": "23", "preset": "fast", "max_attempts": 0}""", "max_attempts")]
    [InlineData("""{"file_name": "a", "crf": "23", "preset": "fast", "max_attempts": 101}""", "max_attempts")]
    public async Task BadPriorityOrMaxAttemptsAreRefused(string body, string field)
    {
        var response = await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(field, await QueueCalls.ErrorOf(response));
        Assert.Empty(await client.ListAsync());
    }

    private async Task<Job> Claim(string? worker = null)
    {
        var response = await client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private async Task<Job> Beat(Job claimed, double progress)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/heartbeat", new Heartbeat(claimed.ClaimToken!, progress), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private async Task<Job> Fail(Job claimed, bool retryable)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/fail",
            new FailureReport("network share went away", ClaimToken: claimed.ClaimToken, Retryable: retryable), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private async Task<Job> Post(string path)
    {
        var response = await client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private async Task<Job> Get(long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;

    private Task Expire() => factory.GetService<UpkeepLoop>().RunRoundAsync();
}
