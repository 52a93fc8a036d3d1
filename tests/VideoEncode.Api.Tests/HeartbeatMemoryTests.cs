using VideoEncode.Api.Jobs.Heartbeats;
using System.Net.Http.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Heartbeats that only report progress are answered from the host's memory (LiveClaims): what is
/// written at once (the lease when it needs renewing, every change of status), what waits for the
/// next batch (progress figures), and that nothing the memory holds can undo a job's end. The
/// batches are written when the test says so (ProgressFlushSeconds is an hour here).
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class HeartbeatMemoryTests : IDisposable
{
    private const int Lease = 60;
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public HeartbeatMemoryTests()
    {
        factory = new QueueFactory(settings: Settings, clock: clock);
        client = factory.CreateApiClient();
    }

    private static Dictionary<string, string?> Settings => new()
    {
        ["LeaseSeconds"] = Lease.ToString(),
        ["LeaseSweepSeconds"] = "3600",
        ["LeaderLeaseSeconds"] = "7200",
        ["ProgressFlushSeconds"] = "3600",
    };

    public void Dispose() => factory.Dispose();

    private IJobStore Store => factory.GetService<IJobStore>();

    [Fact]
    public async Task AProgressBeatIsShownAtOnceButWrittenOnlyWithTheNextBatch()
    {
        var job = await EnqueueAndClaimAsync();

        var answer = await BeatAsync(job, progress: 40);
        Assert.Equal(40, answer.Progress);
        Assert.Equal(job.LeaseExpiresAt, answer.LeaseExpiresAt);
        // This host's answers show it; the database does not have it yet.
        Assert.Equal(40, (await client.GetJobAsync(job.Id)).Progress);
        Assert.Equal(40, (await client.ListAsync()).Single().Progress);
        Assert.Null((await Store.GetAsync(job.Id))!.Progress);

        await factory.GetService<ProgressFlusher>().FlushAsync();
        var written = (await Store.GetAsync(job.Id))!;
        Assert.Equal((40.0, "encoding"), (written.Progress!.Value, written.Phase));
        Assert.Equal(job.LeaseExpiresAt, written.LeaseExpiresAt);
    }

    [Fact]
    public async Task AWorkerIsSeenWhenItsBeatCameInTheListAndInTheBatchNotWhenTheBatchWasWritten()
    {
        var job = await EnqueueAndClaimAsync();
        clock.Advance(TimeSpan.FromSeconds(2));
        var beatAt = clock.GetUtcNow().ToUnixTimeSeconds();
        await BeatAsync(job, progress: 40);
        async Task<long?> ListedAsync() => (await client.GetFromJsonAsync<WorkerInfo[]>("/api/workers", WireJson.Options))!.Single().LastSeenAt;
        Assert.Equal(beatAt, await ListedAsync());

        clock.Advance(TimeSpan.FromSeconds(3));                // the batch is written later
        await factory.GetService<ProgressFlusher>().FlushAsync();
        async Task<long?> StoredAsync() => (await factory.GetService<WorkerList>().ListAsync()).Single().LastSeenAt;
        Assert.Equal(beatAt, await StoredAsync());
        Assert.Equal(beatAt, await ListedAsync());

        // A batch taken before a later sighting was written (here by a lease renewal) does not move it back.
        await BeatAsync(job, progress: 50);
        var late = factory.GetService<LiveClaims>().TakeUnsaved();
        clock.Advance(TimeSpan.FromSeconds(Lease / 2));
        var renewedAt = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(renewedAt + Lease, (await BeatAsync(job, progress: 60)).LeaseExpiresAt);
        await Store.SaveProgressAsync(late);
        Assert.Equal(renewedAt, await StoredAsync());
    }

    [Fact]
    public async Task TheLeaseIsWrittenOnlyOnceHalfOfItIsGone()
    {
        var job = await EnqueueAndClaimAsync();

        clock.Advance(TimeSpan.FromSeconds(Lease / 2 - 1));
        Assert.Equal(job.LeaseExpiresAt, (await BeatAsync(job, progress: 10)).LeaseExpiresAt);
        Assert.Equal(job.LeaseExpiresAt, (await Store.GetAsync(job.Id))!.LeaseExpiresAt);

        clock.Advance(TimeSpan.FromSeconds(1));
        var renewed = await BeatAsync(job, progress: 20);
        var expected = clock.GetUtcNow().ToUnixTimeSeconds() + Lease;
        Assert.Equal(expected, renewed.LeaseExpiresAt);
        // Written before it was answered, with the beat's figures.
        var stored = (await Store.GetAsync(job.Id))!;
        Assert.Equal((expected, 20.0), (stored.LeaseExpiresAt!.Value, stored.Progress!.Value));
    }

    [Fact]
    public async Task AShortLeaseIsRenewedByEveryBeatSoALateBeatStillFindsItAlive()
    {
        // With a 6 s lease, half of it (3 s) would leave a beat that runs a second or two late nothing to renew.
        var settings = Settings;
        settings["LeaseSeconds"] = "6";
        using var shortLeases = new QueueFactory(settings: settings, clock: clock);
        var shortClient = shortLeases.CreateApiClient();
        await shortClient.EnqueueAsync(QueueCalls.NewJob());
        var job = (await shortClient.ClaimAsync(new ClaimRequest("farm-1")))!;

        foreach (var progress in new[] { 10.0, 20.0 })
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var expected = clock.GetUtcNow().ToUnixTimeSeconds() + 6;
            Assert.Equal(expected, (await BeatAsync(shortClient, job, progress)).LeaseExpiresAt);
            var stored = (await shortLeases.GetService<IJobStore>().GetAsync(job.Id))!;
            Assert.Equal((expected, progress), (stored.LeaseExpiresAt!.Value, stored.Progress!.Value));
        }
    }

    [Fact]
    public async Task ACancelAskedWhileBeatsComeFromMemoryIsToldAtTheNextBeat()
    {
        var job = await EnqueueAndClaimAsync();
        Assert.False((await BeatAsync(job, progress: 5)).CancelRequested);

        (await client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).EnsureSuccessStatusCode();
        Assert.True((await BeatAsync(job, progress: 6)).CancelRequested);
    }

    [Fact]
    public async Task ADrainAskedWhileBeatsComeFromMemoryIsToldAtTheNextBeat()
    {
        var job = await EnqueueAndClaimAsync();
        Assert.False((await BeatAsync(job, progress: 5)).Drain);

        (await client.PostAsync("/api/workers/farm-1/drain", null)).EnsureSuccessStatusCode();
        Assert.True((await BeatAsync(job, progress: 6)).Drain);
        (await client.DeleteAsync("/api/workers/farm-1/drain")).EnsureSuccessStatusCode();
        Assert.False((await BeatAsync(job, progress: 7)).Drain);
    }

    [Fact]
    public async Task ABeatOnTheOriginalServicesLongLeaseIsWrittenAndCutsItToThisHostsLease()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var job = (await client.GetFromJsonAsync<Job>("/api/jobs/claim", WireJson.Options))!;
        Assert.True(job.LeaseExpiresAt > clock.GetUtcNow().ToUnixTimeSeconds() + Lease);

        // Hours of lease left, yet not answered from memory: a worker that stops beating must lose the job in a lease.
        var expected = clock.GetUtcNow().ToUnixTimeSeconds() + Lease;
        Assert.Equal(expected, (await BeatAsync(job, progress: 10)).LeaseExpiresAt);
        Assert.Equal(expected, (await Store.GetAsync(job.Id))!.LeaseExpiresAt);
        // From then on it is a lease like any other: the next beats come from memory.
        await BeatAsync(job, progress: 20);
        Assert.Equal(10.0, (await Store.GetAsync(job.Id))!.Progress);
    }

    [Fact]
    public async Task AStaleTokenIsRefusedEvenWhileTheClaimIsRemembered()
    {
        var job = await EnqueueAndClaimAsync();
        await BeatAsync(job, progress: 5);
        var response = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new Heartbeat(new string('0', 32), 6), WireJson.Options);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task FiguresHeldInMemoryNeverWriteOverAJobThatEnded()
    {
        var job = await EnqueueAndClaimAsync();
        await BeatAsync(job, progress: 40);
        // The batch is taken, then the job finishes before the batch is written.
        var batch = factory.GetService<LiveClaims>().TakeUnsaved();
        Assert.Single(batch);
        (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options)).EnsureSuccessStatusCode();

        await Store.SaveProgressAsync(batch);
        var stored = (await Store.GetAsync(job.Id))!;
        Assert.Equal((JobStatus.Finished, 100.0, (string?)null), (stored.Status, stored.Progress!.Value, stored.Phase));
    }

    [Fact]
    public async Task AFinishedJobShowsItsEndNotTheFiguresItHadInMemory()
    {
        var job = await EnqueueAndClaimAsync();
        await BeatAsync(job, progress: 40);
        (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options)).EnsureSuccessStatusCode();

        Assert.Equal(100, (await client.GetJobAsync(job.Id)).Progress);
        Assert.Empty(factory.GetService<LiveClaims>().TakeUnsaved());
    }

    [Fact]
    public async Task AHostThatStopsWritesTheFiguresItHeld()
    {
        var database = TestStore.NewDatabase();
        try
        {
            Job job;
            using (var first = new QueueFactory(database, Settings, clock))
            {
                var firstClient = first.CreateApiClient();
                await firstClient.EnqueueAsync(QueueCalls.NewJob());
                job = (await firstClient.ClaimAsync(new ClaimRequest("farm-1")))!;
                await BeatAsync(firstClient, job, progress: 70);
                Assert.Null((await first.GetService<IJobStore>().GetAsync(job.Id))!.Progress);
            }

            using var restarted = new QueueFactory(database, Settings, clock);
            var after = await restarted.CreateApiClient().GetJobAsync(job.Id);
            Assert.Equal((JobStatus.InProgress, 70.0, job.LeaseExpiresAt), (after.Status, after.Progress!.Value, after.LeaseExpiresAt));
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task OnASharedStoreTheFiguresOtherHostsHearAreTheRowAsWrittenWithACancelAskedMeanwhile()
    {
        var database = TestStore.NewPostgresDatabase();
        try
        {
            using var host = new QueueFactory(database, Settings, clock);
            var hostClient = host.CreateApiClient();
            await hostClient.EnqueueAsync(QueueCalls.NewJob());
            var job = (await hostClient.ClaimAsync(new ClaimRequest("farm-1")))!;
            await BeatAsync(hostClient, job, progress: 40);
            // The batch is taken while memory says "not cancelled"; the cancel commits before the batch is written.
            var batch = host.GetService<LiveClaims>().TakeUnsaved();
            Assert.False(Assert.Single(batch).Job.CancelRequested);
            (await hostClient.PostAsync($"/api/jobs/{job.Id}/cancel", null)).EnsureSuccessStatusCode();

            await host.GetService<IJobStore>().SaveProgressAsync(batch);
            await using var connection = new Npgsql.NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var newest = new Npgsql.NpgsqlCommand(
                $"SELECT data FROM job_events WHERE cause = '{nameof(ChangeCause.Heartbeat)}' ORDER BY id DESC LIMIT 1", connection);
            var heard = System.Text.Json.JsonSerializer.Deserialize<Job>((string)(await newest.ExecuteScalarAsync())!, WireJson.Options)!;
            Assert.Equal((job.Id, 40.0, true, false), (heard.Id, heard.Progress!.Value, heard.CancelRequested, heard.Drain));
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    private async Task<Job> EnqueueAndClaimAsync()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var job = (await client.ClaimAsync(new ClaimRequest("farm-1")))!;
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + Lease, job.LeaseExpiresAt);
        return job;
    }

    private Task<Job> BeatAsync(Job job, double progress) => BeatAsync(client, job, progress);

    private static async Task<Job> BeatAsync(HttpClient client, Job job, double progress)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat",
            new Heartbeat(job.ClaimToken!, progress, Speed: 2, EtaSeconds: 30, Phase: JobPhase.Encoding), WireJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }
}
