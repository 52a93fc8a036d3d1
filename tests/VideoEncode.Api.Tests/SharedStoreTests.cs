using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using VideoEncode.Api.Stats;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Several hosts on one PostgreSQL queue, as real processes behind no load balancer: the tests
/// spread their clients over the hosts themselves. These always run on PostgreSQL (./test.sh
/// provides the server), so they run once, not again in the PostgreSQL pass of the API suite.
/// </summary>
public abstract class HostsOnOneDatabase : IDisposable
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    protected readonly string database = TestStore.NewPostgresDatabase();
    private readonly RunningHosts running = new(clientTimeout: TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        running.Dispose();
        TestStore.Delete(database);
        GC.SuppressFinalize(this);
    }

    protected Task<(HostProcess Host, HttpClient Client)> StartHostAsync(params (string Name, string Value)[] settings) =>
        running.StartAsync(database, settings);

    protected static async Task<List<Job>> AllJobsAsync(HttpClient client)
    {
        var all = new List<Job>();
        for (long? before = null; ;)
        {
            var page = (await client.GetFromJsonAsync<Job[]>($"/api/jobs?status=all&limit=1000{(before is { } id ? $"&before_id={id}" : "")}", WireJson.Options))!;
            all.AddRange(page);
            if (page.Length < 1000) return all;
            before = page[^1].Id;
        }
    }
}

/// <summary>The longest test of the suite, in a class of its own so it runs beside the others from the start.</summary>
[Trait("Store", TestStore.RunOnce)]
[RunsLong]
public sealed class SharedStoreLoadTests : HostsOnOneDatabase
{
    /// <summary>
    /// Twenty batches of a thousand at once can find the hosts busy (503, "try again in a moment"), as a
    /// real client may; it sends the batch again under the same Idempotency-Key, so a batch that did
    /// land the first time is not made twice.
    /// </summary>
    private static async Task<Job[]> EnqueueOnceAsync(HttpClient client, string idempotencyKey, object[] jobs)
    {
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(jobs, options: WireJson.Options) };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                continue;
            }
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
        }
    }

    [Fact]
    public async Task TwoHostsHandOutTwentyThousandJobsEachExactlyOnceAndAgreeOnTheFigures()
    {
        const int Jobs = 20_000;
        var (_, a) = await StartHostAsync();
        var (_, b) = await StartHostAsync();
        var enqueued = new ConcurrentBag<long>();
        await Task.WhenAll(Enumerable.Range(0, Jobs / 1000).Select(async batch =>
        {
            var jobs = Enumerable.Range(0, 1000).Select(i => QueueCalls.NewJob($"many/{batch}/{i}.mkv")).ToArray();
            foreach (var job in await EnqueueOnceAsync(batch % 2 == 0 ? a : b, $"batch-{batch}", jobs)) enqueued.Add(job.Id);
        }));

        var claims = new ConcurrentBag<long>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
        {
            var http = n % 2 == 0 ? a : b;
            while (true)
            {
                var claim = await http.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest($"claimer-{n}"), WireJson.Options);
                if (claim.StatusCode == HttpStatusCode.NotFound) return;
                Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
                var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
                claims.Add(job.Id);
                var finish = await http.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options);
                Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
            }
        })));

        Assert.Equal(Jobs, enqueued.Distinct().Count());
        Assert.Equal(Jobs, claims.Count);                                  // no job claimed twice …
        Assert.Equal(enqueued.Order(), claims.Order());                     // … and none left behind
        var statsA = await a.GetFromJsonAsync<QueueStats>("/api/stats", WireJson.Options);
        var statsB = await b.GetFromJsonAsync<QueueStats>("/api/stats", WireJson.Options);
        Assert.Equal(Jobs, statsA!.Counts[JobStatus.Finished]);
        Assert.Equal(statsA.Counts, statsB!.Counts);
        var workersA = (await a.GetFromJsonAsync<WorkerInfo[]>("/api/workers", WireJson.Options))!.OrderBy(worker => worker.Name).ToList();
        var workersB = (await b.GetFromJsonAsync<WorkerInfo[]>("/api/workers", WireJson.Options))!.OrderBy(worker => worker.Name).ToList();
        Assert.Equal(workersA.Select(w => (w.Name, w.LastSeenAt, w.JobsFinished)), workersB.Select(w => (w.Name, w.LastSeenAt, w.JobsFinished)));
        Assert.Equal(Jobs, workersA.Sum(worker => worker.JobsFinished));
    }
}

[Trait("Store", TestStore.RunOnce)]
[RunsLong]
public sealed class SharedStoreTests : HostsOnOneDatabase
{
    [Fact]
    public async Task KillingOneHostMidBurstLosesNothingAcknowledgedAndTheOtherGoesOnServing()
    {
        var (doomed, a) = await StartHostAsync(("LEASESECONDS", "2"));
        var (_, b) = await StartHostAsync(("LEASESECONDS", "2"));
        var acknowledged = new ConcurrentBag<long>();
        var finished = new ConcurrentBag<long>();
        using var burst = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
        {
            var http = n % 2 == 0 ? a : b;
            for (var i = 0; !burst.IsCancellationRequested; i++)
            {
                try
                {
                    if (n < 4)
                    {
                        var response = await http.PostAsJsonAsync("/api/jobs", new[] { QueueCalls.NewJob($"burst/{n}/{i}.mkv") }, WireJson.Options);
                        if (response.StatusCode == HttpStatusCode.Created)
                            acknowledged.Add((await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0].Id);
                        continue;
                    }
                    var claim = await http.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest($"claimer-{n}"), WireJson.Options);
                    if (claim.StatusCode != HttpStatusCode.OK) continue;
                    var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
                    var finish = await http.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options);
                    if (finish.StatusCode == HttpStatusCode.OK) finished.Add(job.Id);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException)
                {
                    if (http == a) return; // the killed host's clients stop; the other host's must not fail
                    throw;
                }
            }
        })).ToList();

        await Eventually.TrueAsync(() => acknowledged.Count >= 300 && finished.Count >= 50, () => $"{acknowledged.Count} enqueued, {finished.Count} finished");
        doomed.KillHard();
        var acknowledgedAtKill = acknowledged.Count;
        await Eventually.TrueAsync(() => acknowledged.Count >= acknowledgedAtKill + 100, () => $"{acknowledged.Count} enqueued after the kill");
        burst.Cancel();
        await Task.WhenAll(traffic);

        // Every acknowledged enqueue and finish is in the queue, as the surviving host sees it.
        var jobs = (await AllJobsAsync(b)).ToDictionary(job => job.Id);
        Assert.All(acknowledged, id => Assert.True(jobs.ContainsKey(id), $"acknowledged job {id} is missing"));
        Assert.All(finished, id => Assert.Equal(JobStatus.Finished, jobs[id].Status));
        // And the survivor drives every job to the end, including those the dead host had handed out (their leases lapse).
        QueueStats? stats = null;
        await Eventually.TrueAsync(async () =>
        {
            var claim = await b.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("finisher", 1), WireJson.Options);
            if (claim.StatusCode == HttpStatusCode.OK)
            {
                var claimedAt = System.Diagnostics.Stopwatch.StartNew();
                var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
                var finish = await b.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options);
                // A stall of a second can outlast a 2 s lease (whole seconds), and the job comes back for
                // the next claim; a refusal any sooner would be a claim given twice.
                if (finish.StatusCode != HttpStatusCode.Conflict || claimedAt.Elapsed < TimeSpan.FromSeconds(1)) finish.EnsureSuccessStatusCode();
            }
            stats = (await b.GetFromJsonAsync<QueueStats>("/api/stats", WireJson.Options))!;
            return stats.Counts[JobStatus.Finished] == stats.Total;
        }, () => "jobs left unfinished: " + (stats is null ? "no stats" : string.Join(", ", stats.Counts)), Patience);
    }

    [Fact]
    public async Task ALongPollClaimOnOneHostAnswersAnEnqueueOnTheOther()
    {
        var (_, a) = await StartHostAsync();
        var (_, b) = await StartHostAsync();
        var waiting = b.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("waiter", 60), WireJson.Options);
        await Eventually.TrueAsync(async () => (await b.GetStringAsync("/metrics")).Contains("\nvideoencode_waiting_claims 1\n"),
            () => "the claim never started waiting on host B");
        var job = (await a.EnqueueAsync(QueueCalls.NewJob("across.mkv")))[0];
        var claim = await waiting.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        Assert.Equal(job.Id, (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Id);
    }

    [Fact]
    public async Task WhenTheLeadingHostDiesAnotherTakesOverAndSweepsAnExpiredLease()
    {
        // The default lead (5 s) leaves the first host a few missed upkeep rounds before it loses the lead on a busy machine.
        (string, string)[] settings = [("LEASESECONDS", "2")];
        var dead = await StartHostAsync(settings);
        Leader? leader = null;
        await Eventually.TrueAsync(async () => (leader = await LeaderAsync()) is not null, () => "the first host never took the lead");
        var survivor = await StartHostAsync(settings);                // the lead is taken: the second host only stands by

        var job = (await survivor.Client.EnqueueAsync(QueueCalls.NewJob("orphan.mkv")))[0];
        var claim = await survivor.Client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("silent-worker"), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);           // … and no heartbeat will ever follow
        Assert.Equal(leader!.Holder, (await LeaderAsync())?.Holder); // the first host still leads when it dies
        dead.Host.KillHard();

        await Eventually.TrueAsync(async () =>
            (await survivor.Client.GetFromJsonAsync<Job>($"/api/jobs/{job.Id}", WireJson.Options))!.Status == JobStatus.Pending,
            () => "the lapsed lease was not swept", Patience);
        var swept = (await survivor.Client.GetFromJsonAsync<Job>($"/api/jobs/{job.Id}", WireJson.Options))!;
        Assert.Contains("lease expired", swept.Error);
        var successor = (await LeaderAsync())!;
        Assert.NotEqual(leader.Holder, successor.Holder);
        Assert.True(successor.Term > leader.Term);
    }

    private sealed record Leader(Guid Holder, long Term);

    private async Task<Leader?> LeaderAsync()
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT holder, term FROM leaders WHERE expires_at > clock_timestamp()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new Leader(reader.GetGuid(0), reader.GetInt64(1)) : null;
    }
}
