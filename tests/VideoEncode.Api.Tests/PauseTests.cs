using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Pausing the queue (claims get nothing, running jobs go on, long polls wait for the resume) and
/// draining a worker (its claims are refused and its heartbeats say so, until a person lifts it).
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class PauseTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string database = TestStore.NewDatabase();
    private readonly List<QueueFactory> hosts = [];

    public void Dispose()
    {
        foreach (var host in hosts) host.Dispose();
        TestStore.Delete(database);
    }

    private QueueFactory StartHost(string? on = null)
    {
        var host = new QueueFactory(on ?? database);
        hosts.Add(host);
        return host;
    }

    [Fact]
    public async Task ClaimsFindNothingWhilePausedAndTheJobOnceResumed()
    {
        var client = StartHost().CreateApiClient();
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("held.mkv")))[0];

        var paused = await Post(client, "/api/queue/pause");
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("VIDEOENCODE_APIKEY", paused.GetProperty("paused_by").GetString());
        Assert.True(paused.GetProperty("paused_at").GetInt64() > 0);
        Assert.True((await State(client)).GetProperty("paused").GetBoolean());

        var original = await client.GetAsync("/api/jobs/claim");
        Assert.Equal(HttpStatusCode.NotFound, original.StatusCode);
        Assert.Equal("No jobs available", await QueueCalls.ErrorOf(original));
        var claim = await client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("w1"), WireJson.Options);
        Assert.Equal(HttpStatusCode.NotFound, claim.StatusCode);
        var refusal = (await claim.Content.ReadFromJsonAsync<NoJob>(WireJson.Options))!;
        Assert.Equal(NoJob.NoJobsAvailable, refusal.Error);
        Assert.True(refusal.Paused);
        Assert.False(refusal.Drain);
        Assert.Equal(JobStatus.Pending, (await Get(client, job.Id)).Status);

        var resumed = await Post(client, "/api/queue/resume");
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.Equal(JsonValueKind.Null, resumed.GetProperty("paused_by").ValueKind);
        Assert.Equal(job.Id, (await client.ClaimAsync())!.Id);
    }

    [Fact]
    public async Task PauseAndResumeAreIdempotentAndEachChangeIsAudited()
    {
        var client = StartHost().CreateApiClient();
        var first = await Post(client, "/api/queue/pause");
        var again = await Post(client, "/api/queue/pause");
        Assert.Equal(first.GetProperty("paused_at").GetInt64(), again.GetProperty("paused_at").GetInt64());
        await Post(client, "/api/queue/resume");
        await Post(client, "/api/queue/resume");

        var audit = await Audit(client);
        Assert.Equal(["queue.resume", "queue.pause"], audit.Select(entry => entry.GetProperty("action").GetString()));
        Assert.All(audit, entry => Assert.Equal("VIDEOENCODE_APIKEY", entry.GetProperty("key_name").GetString()));
    }

    /// <summary>
    /// A long poll waiting when the pause begins keeps waiting — even when a job arrives and wakes it —
    /// and so does one that starts during the pause; the resume wakes both and each gets a job.
    /// </summary>
    [Fact]
    public async Task LongPollsWaitThroughThePauseAndGetTheirJobsOnResume()
    {
        var host = StartHost();
        var client = host.CreateApiClient();
        var waiters = host.GetService<ClaimWaiters>();
        var before = LongPoll(host, "before", seconds: 30);
        await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");

        await Post(client, "/api/queue/pause");
        var first = (await client.EnqueueAsync(QueueCalls.NewJob("first.mkv")))[0];   // wakes the waiting claim, which finds the queue paused
        await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");
        var during = LongPoll(host, "during", seconds: 30);
        await Eventually.TrueAsync(() => waiters.Count == 2, () => $"{waiters.Count} waiting");
        var second = (await client.EnqueueAsync(QueueCalls.NewJob("second.mkv")))[0];
        await Eventually.TrueAsync(() => waiters.Count == 2, () => $"{waiters.Count} waiting");

        Assert.False(before.IsCompleted || during.IsCompleted);
        Assert.All(await client.ListAsync(), job => Assert.Equal(JobStatus.Pending, job.Status));

        await Post(client, "/api/queue/resume");
        var answers = await Task.WhenAll(before, during).WaitAsync(Patience);
        var claimed = new List<long>();
        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            claimed.Add((await answer.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Id);
        }
        Assert.Equal([first.Id, second.Id], claimed.Order());
    }

    [Fact]
    public async Task RunningJobsHeartbeatAndFinishWhilePaused()
    {
        var client = StartHost().CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("running.mkv"));
        var running = (await client.ClaimAsync())!;

        await Post(client, "/api/queue/pause");

        var beat = await client.PostAsJsonAsync($"/api/jobs/{running.Id}/heartbeat", new Heartbeat(running.ClaimToken!, 50), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        var finish = await client.PostAsJsonAsync($"/api/jobs/{running.Id}/finish", new ClaimProof(running.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
        Assert.Equal(JobStatus.Finished, (await Get(client, running.Id)).Status);
    }

    [Fact]
    public async Task APauseOutlivesARestart()
    {
        using (var before = new QueueFactory(database))
        {
            var client = before.CreateApiClient();
            await client.EnqueueAsync(QueueCalls.NewJob("kept.mkv"));
            await Post(client, "/api/queue/pause");
        }

        var after = StartHost().CreateApiClient();
        var state = await State(after);
        Assert.True(state.GetProperty("paused").GetBoolean());
        Assert.Equal("VIDEOENCODE_APIKEY", state.GetProperty("paused_by").GetString());
        Assert.Null(await after.ClaimAsync());
    }

    [Fact]
    public async Task ADrainedWorkerIsRefusedClaimsAndToldInItsHeartbeatsUntilTheDrainIsLifted()
    {
        var client = StartHost().CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv"));
        var running = (await (await Claim(client, "w1")).Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
        Assert.False((await Heartbeat(client, running)).Drain);

        var drained = await Post(client, "/api/workers/w1/drain");
        Assert.Equal("w1", drained.GetProperty("name").GetString());
        Assert.True(drained.GetProperty("draining").GetBoolean());

        Assert.True((await Heartbeat(client, running)).Drain);
        var refused = await Claim(client, "w1");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        var refusal = (await refused.Content.ReadFromJsonAsync<NoJob>(WireJson.Options))!;
        Assert.True(refusal.Drain);
        Assert.Contains("draining", refusal.Error);
        Assert.Equal(HttpStatusCode.OK, (await Claim(client, "w2")).StatusCode);   // other workers go on
        Assert.True((await Workers(client)).Single(w => w.GetProperty("name").GetString() == "w1").GetProperty("draining").GetBoolean());
        // The job it runs goes on to the end.
        var finish = await client.PostAsJsonAsync($"/api/jobs/{running.Id}/finish", new ClaimProof(running.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);

        var lifted = await Send(client, HttpMethod.Delete, "/api/workers/w1/drain");
        Assert.False(lifted.GetProperty("draining").GetBoolean());
        var again = await Claim(client, "w1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False((await Heartbeat(client, (await again.Content.ReadFromJsonAsync<Job>(WireJson.Options))!)).Drain);
        Assert.False((await Workers(client)).Single(w => w.GetProperty("name").GetString() == "w1").GetProperty("draining").GetBoolean());

        var audit = await Audit(client);
        Assert.Equal(["worker.undrain", "worker.drain"], audit.Select(entry => entry.GetProperty("action").GetString()));
        Assert.All(audit, entry => Assert.Equal("w1", entry.GetProperty("target").GetString()));
    }

    [Fact]
    public async Task AWorkerDrainedBeforeItWasEverSeenIsRefusedFromItsFirstClaim()
    {
        var client = StartHost().CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        await Post(client, "/api/workers/later/drain");

        var shown = (await Workers(client)).Single();
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("last_seen_at").ValueKind);
        Assert.False(shown.GetProperty("lost").GetBoolean());
        Assert.True(shown.GetProperty("draining").GetBoolean());
        var refused = await Claim(client, "later");
        Assert.True((await refused.Content.ReadFromJsonAsync<NoJob>(WireJson.Options))!.Drain);

        // Lifting the drain of a worker never seen forgets it again; one never known is not found.
        await Send(client, HttpMethod.Delete, "/api/workers/later/drain");
        Assert.Empty(await Workers(client));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/workers/unknown/drain")).StatusCode);
    }

    [Fact]
    public async Task ADrainedWorkerWaitingInALongPollIsAnsweredAtOnce()
    {
        var host = StartHost();
        var waiters = host.GetService<ClaimWaiters>();
        var waiting = LongPoll(host, "idle", seconds: 60);
        var other = LongPoll(host, "other", seconds: 60);
        await Eventually.TrueAsync(() => waiters.Count == 2, () => $"{waiters.Count} waiting");

        await Post(host.CreateApiClient(), "/api/workers/idle/drain");

        var answer = await waiting.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.True((await answer.Content.ReadFromJsonAsync<NoJob>(WireJson.Options))!.Drain);
        await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");
        Assert.False(other.IsCompleted);   // the others were woken too, found nothing, and wait on
    }

    [Fact]
    public async Task OnlyAdminKeysPauseResumeAndDrainAnyKeyReadsTheQueueState()
    {
        var host = StartHost();
        var admin = host.CreateApiClient();
        foreach (var role in new[] { "submit", "worker", "read" })
        {
            var created = await admin.PostAsJsonAsync("/api/keys", new { name = $"{role}-key", role });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
            var client = host.CreateApiClient(key);
            foreach (var path in new[] { "/api/queue/pause", "/api/queue/resume", "/api/workers/w1/drain" })
                Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync(path, null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/api/workers/w1/drain")).StatusCode);
            Assert.False((await State(client)).GetProperty("paused").GetBoolean());
        }
        Assert.Empty(await Workers(admin));
        Assert.DoesNotContain(await Audit(admin), entry => entry.GetProperty("action").GetString()!.StartsWith("queue."));
    }

    [Fact]
    public async Task AWorkerNameWithControlCharactersIsRefused()
    {
        var client = StartHost().CreateApiClient();
        var response = await client.PostAsync("/api/workers/bad%01name/drain", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await Workers(client));
    }

    /// <summary>
    /// Two hosts on one PostgreSQL store: a pause made on one holds on the other, and a long poll
    /// waiting on the other gets its job after a resume made on the first (by its once-a-second recheck).
    /// </summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task OnASharedStoreAPauseAndAResumeMadeOnOneHostHoldOnTheOther()
    {
        var shared = TestStore.NewPostgresDatabase();
        try
        {
            var a = StartHost(shared);
            var b = StartHost(shared);
            var onA = a.CreateApiClient();
            var onB = b.CreateApiClient();
            await Post(onA, "/api/queue/pause");
            var job = (await onA.EnqueueAsync(QueueCalls.NewJob("shared.mkv")))[0];
            Assert.True((await State(onB)).GetProperty("paused").GetBoolean());
            Assert.Null(await onB.ClaimAsync());

            var waiters = b.GetService<ClaimWaiters>();
            var waiting = LongPoll(b, "on-b", seconds: 60);
            await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");
            await Post(onA, "/api/queue/resume");

            var answer = await waiting.WaitAsync(Patience);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(job.Id, (await answer.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Id);
        }
        finally
        {
            foreach (var host in hosts) host.Dispose();
            hosts.Clear();
            TestStore.Delete(shared);
        }
    }

    private static Task<HttpResponseMessage> LongPoll(QueueFactory host, string worker, double seconds) =>
        Task.Run(() => host.CreateApiClient().PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker, seconds), WireJson.Options));

    private static Task<HttpResponseMessage> Claim(HttpClient client, string worker) =>
        client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker), WireJson.Options);

    private static async Task<Job> Heartbeat(HttpClient client, Job claimed)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/heartbeat", new Heartbeat(claimed.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private static Task<JsonElement> Post(HttpClient client, string path) => Send(client, HttpMethod.Post, path);

    private static async Task<JsonElement> Send(HttpClient client, HttpMethod method, string path)
    {
        var response = await client.SendAsync(new HttpRequestMessage(method, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> State(HttpClient client) => await client.GetFromJsonAsync<JsonElement>("/api/queue");

    private static async Task<JsonElement[]> Workers(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/workers")).EnumerateArray().ToArray();

    private static async Task<JsonElement[]> Audit(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/audit")).EnumerateArray().ToArray();

    private static async Task<Job> Get(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
