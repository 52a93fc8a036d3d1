using VideoEncode.Api.Jobs.Drivers;
using VideoEncode.Api.Changes;
using System.Net;
using System.Net.Http.Json;
using VideoEncode.Api.Database.Sqlite;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Upkeep;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Long-poll claims: one wake per claimable job, backoffs that end after a restart, and claims nobody is left to receive.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class ClaimWaitTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly ManualClock clock = new();
    private readonly string database = TestStore.NewDatabase();
    private readonly Dictionary<string, string?> settings = new()
    {
        ["LeaseSeconds"] = "30",
        ["RetryBackoffSeconds"] = "10",
        ["LeaseSweepSeconds"] = "3600", // upkeep runs when the test says so
        ["LeaderLeaseSeconds"] = "7200",
    };
    private readonly List<QueueFactory> hosts = [];

    public void Dispose()
    {
        foreach (var host in hosts) host.Dispose();
        TestStore.Delete(database);
    }

    private QueueFactory StartHost()
    {
        var host = new QueueFactory(database, settings, clock);
        hosts.Add(host);
        return host;
    }

    [Fact]
    public void AWakeGoesToOneWaiterAndAWakeNotSpentIsPassedOn()
    {
        var waiters = new ClaimWaiters();
        using var first = waiters.Enter();
        using var second = waiters.Enter();
        using var third = waiters.Enter();

        waiters.Wake(1);
        Assert.True(first.Woken.IsCompleted);
        Assert.False(second.Woken.IsCompleted || third.Woken.IsCompleted);

        // The first waiter leaves without spending its wake (its client went away, or it claimed
        // another job): the next in line gets it.
        first.Dispose();
        Assert.True(second.Woken.IsCompleted);
        Assert.False(third.Woken.IsCompleted);

        // A spent wake is not passed on.
        second.Spend();
        second.Dispose();
        Assert.False(third.Woken.IsCompleted);
        Assert.Equal(1, waiters.Count);
    }

    [Fact]
    public async Task OneEnqueuedJobWakesOneWaitingClaimNotAll()
    {
        var host = StartHost();
        var waiters = host.GetService<ClaimWaiters>();
        var claims = Enumerable.Range(0, 5).Select(i => LongPoll(host, $"idle-{i}", seconds: 20)).ToList();
        await Eventually.TrueAsync(() => waiters.Count == 5, () => $"{waiters.Count} waiting");

        var job = (await host.CreateApiClient().EnqueueAsync(QueueCalls.NewJob("one.mkv")))[0];

        var answered = await Task.WhenAny(claims);
        Assert.Equal(job.Id, (await ReadJob(await answered)).Id);
        Assert.Equal(4, waiters.Count);                      // the other four never woke: still in line
        Assert.Equal(1, claims.Count(claim => claim.IsCompleted));

        await host.CreateApiClient().EnqueueAsync(Enumerable.Range(0, 4).Select(i => QueueCalls.NewJob($"{i}.mkv")).ToArray());
        var all = await Task.WhenAll(claims).WaitAsync(Patience);
        Assert.All(all, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public async Task EveryBackoffThatEndsAfterARestartWakesAWaiterWhenItEnds()
    {
        using (var before = StartHost())
        {
            var client = before.CreateApiClient();
            await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"));
            var a = (await client.ClaimAsync())!;
            var b = (await client.ClaimAsync())!;
            await Fail(client, a);                             // claimable again at +10 s
            clock.Advance(TimeSpan.FromSeconds(5));
            await Fail(client, b);                             // … and this one at +15 s
        }

        var host = StartHost();
        var waiters = host.GetService<ClaimWaiters>();
        var upkeep = host.GetService<UpkeepLoop>();
        var claims = new[] { LongPoll(host, "w1", seconds: 30), LongPoll(host, "w2", seconds: 30) };
        await Eventually.TrueAsync(() => waiters.Count == 2, () => $"{waiters.Count} waiting");

        clock.Advance(TimeSpan.FromSeconds(5));              // +10 s: the first backoff ends
        await upkeep.RunRoundAsync();
        var first = await Task.WhenAny(claims).WaitAsync(Patience);
        Assert.Equal("a.mkv", (await ReadJob(await first)).FileName);
        Assert.Equal(1, waiters.Count);

        clock.Advance(TimeSpan.FromSeconds(5));              // +15 s: the second
        await upkeep.RunRoundAsync();
        var second = claims.Single(claim => claim != first);
        Assert.Equal("b.mkv", (await ReadJob(await second.WaitAsync(Patience))).FileName);
    }

    /// <summary>
    /// The claim runs, and before its answer can be written the client is gone: the job goes back
    /// at once, not after a lease nobody renews, and the attempt does not count. (The writer is held
    /// between the claim and its commit so the client can leave in exactly that window.)
    /// </summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)] // holds the SQLite writer to open the window
    public async Task AClaimWhoseClientLeftBeforeTheAnswerGivesTheJobBackAtOnce()
    {
        var host = StartHost();
        var client = host.CreateApiClient();
        // The search indexer writes at start and after an enqueue, at moments of its own: both are done
        // before the queued writes below are counted.
        var indexer = host.GetService<SqliteSearchIndexer>();
        await Eventually.TrueAsync(() => indexer.RoundsDone >= 1, () => "the search indexer's start-up round did not end");
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("orphan.mkv")))[0];
        await Eventually.TrueAsync(() => indexer.RoundsDone >= 2, () => "the search indexer did not index the enqueued job");
        var writer = host.GetService<SqliteWriter>();

        using var holdFirst = new ManualResetEventSlim();
        using var holdSecond = new ManualResetEventSlim();
        var firstRunning = new TaskCompletionSource();
        var firstHold = writer.WriteAsync(_ =>
        {
            firstRunning.SetResult();
            return holdFirst.Wait(Patience);
        });
        await firstRunning.Task.WaitAsync(Patience);           // the writer is busy: the claim below will queue behind it
        using var leaving = new CancellationTokenSource();
        var claim = client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("leaves"), WireJson.Options, leaving.Token);
        await Eventually.TrueAsync(() => writer.QueuedWrites == 1, () => $"{writer.QueuedWrites} queued");
        var secondHold = writer.WriteAsync(_ => holdSecond.Wait(Patience)); // the same batch as the claim, after it
        holdFirst.Set();
        await firstHold;
        await Eventually.TrueAsync(() => writer.QueuedWrites == 0, () => "the claim's batch did not start");

        leaving.Cancel();                                      // the client leaves while the claim is being committed
        holdSecond.Set();
        await secondHold;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => claim);

        await Eventually.TrueAsync(async () => await Get(client, job.Id) is { Status: JobStatus.Pending, Attempts: 0 }
                && host.LogLines.Any(line => line.Contains($"Job {job.Id}: in_progress -> pending via abandoned claim")),
            () => string.Join('\n', host.LogLines));
        Assert.Equal(job.Id, (await client.ClaimAsync())!.Id);
    }

    [Fact]
    public async Task LeasesThatLapsedWhileTheHostWasDownGetOneLeaseOfGrace()
    {
        Job claimed;
        using (var before = StartHost())
        {
            var client = before.CreateApiClient();
            await client.EnqueueAsync(QueueCalls.NewJob("long.mkv"), QueueCalls.NewJob("dead.mkv"));
            claimed = (await client.ClaimAsync())!;
            await client.ClaimAsync();                         // its worker dies with the host
        }
        clock.Advance(TimeSpan.FromSeconds(60));               // down for twice the lease

        var host = StartHost();
        var api = host.CreateApiClient();
        var upkeep = host.GetService<UpkeepLoop>();
        await upkeep.RunRoundAsync();
        Assert.All(await api.ListAsync(), job => Assert.Equal(JobStatus.InProgress, job.Status));

        clock.Advance(TimeSpan.FromSeconds(20));               // the live worker gets through within the grace
        var beat = await api.PostAsJsonAsync($"/api/jobs/{claimed.Id}/heartbeat", new Heartbeat(claimed.ClaimToken!, 50), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(11));               // the grace is over
        await upkeep.RunRoundAsync();

        var jobs = (await api.ListAsync()).ToDictionary(job => job.FileName);
        Assert.Equal((JobStatus.InProgress, 1), (jobs["long.mkv"].Status, jobs["long.mkv"].Attempts));
        Assert.Equal(JobStatus.Pending, jobs["dead.mkv"].Status);
    }

    private static Task<HttpResponseMessage> LongPoll(QueueFactory host, string worker, double seconds) =>
        Task.Run(() => host.CreateApiClient().PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker, seconds), WireJson.Options));

    private static async Task<Job> ReadJob(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private static async Task Fail(HttpClient client, Job claimed) =>
        (await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/fail",
            new FailureReport("share went away", ClaimToken: claimed.ClaimToken, Retryable: true), WireJson.Options)).EnsureSuccessStatusCode();

    private static async Task<Job> Get(HttpClient client, long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
