using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Heartbeats answered from memory, against real host processes: a kill -9 loses at most the progress
/// figures not yet written, never a claim or a lease that was answered; and on a shared PostgreSQL
/// store a heartbeat may reach any host. These choose their store themselves, so they run once.
/// </summary>
[Trait("Store", TestStore.RunOnce)]
[RunsLong]
public sealed class HeartbeatCrashTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly RunningHosts running = new(clientTimeout: TimeSpan.FromSeconds(30));
    private readonly List<string> databases = [];

    public void Dispose()
    {
        running.Dispose();
        foreach (var database in databases) TestStore.Delete(database);
    }

    [Fact]
    public async Task AKilledHostLosesOnlyUnwrittenProgressNeverTheClaimOrTheLeaseItAnswered()
    {
        var database = TestStore.NewSqlitePath();
        databases.Add(database);
        // Figures are never written by batch here, so all the kill can take is figures. The lease leaves a
        // cold restart on a busy machine time to answer before it lapses.
        (string, string)[] settings = [("LEASESECONDS", "20"), ("PROGRESSFLUSHSECONDS", "3600")];
        var (host, client) = await running.StartAsync(database, settings);
        await client.EnqueueAsync(QueueCalls.NewJob());
        var job = (await client.ClaimAsync(new ClaimRequest("farm-1")))!;

        // Beat until one renews the lease (half of it gone): that answer is written before it is given.
        Job renewed = job;
        await Eventually.TrueAsync(async () =>
        {
            renewed = await BeatAsync(client, job, progress: 30);
            return renewed.LeaseExpiresAt > job.LeaseExpiresAt;
        }, () => $"the lease stayed at {renewed.LeaseExpiresAt}", Patience);
        var remembered = await BeatAsync(client, job, progress: 60); // answered from memory, not written
        Assert.Equal(renewed.LeaseExpiresAt, remembered.LeaseExpiresAt);
        host.KillHard();

        var (_, restarted) = await running.StartAsync(database, settings);
        var after = await restarted.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.InProgress, "farm-1", renewed.LeaseExpiresAt), (after.Status, after.Worker, after.LeaseExpiresAt));
        Assert.Equal(30, after.Progress); // the renewal's figures were written with it; the 60 after it were lost
        // The claim is the worker's still: it beats and finishes with its token.
        await BeatAsync(restarted, job, progress: 90);
        (await restarted.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task OnASharedStoreAHostThatAnswersBeatsFromMemoryHearsOfACancelMadeOnAnother()
    {
        var database = TestStore.NewPostgresDatabase();
        databases.Add(database);
        (string, string)[] settings = [("PROGRESSFLUSHSECONDS", "1")];
        var (_, a) = await running.StartAsync(database, settings);
        var (_, b) = await running.StartAsync(database, settings);
        await a.EnqueueAsync(QueueCalls.NewJob());
        var job = (await a.ClaimAsync(new ClaimRequest("farm-1")))!;
        Assert.False((await BeatAsync(a, job, progress: 10)).CancelRequested);

        // The figures A holds reach B with A's next batch.
        await Eventually.TrueAsync(async () => (await b.GetJobAsync(job.Id)).Progress == 10, () => "host B never read A's figures", Patience);
        // A beat may reach either host.
        Assert.False((await BeatAsync(b, job, progress: 20)).CancelRequested);

        (await b.PostAsync($"/api/jobs/{job.Id}/cancel", null)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(async () => (await BeatAsync(a, job, progress: 30)).CancelRequested, () => "host A never heard of the cancel", Patience);
        (await a.PostAsJsonAsync($"/api/jobs/{job.Id}/cancel", new ClaimProof(job.ClaimToken!), WireJson.Options)).EnsureSuccessStatusCode();
        Assert.Equal(JobStatus.Cancelled, (await b.GetJobAsync(job.Id)).Status);
    }

    private static async Task<Job> BeatAsync(HttpClient client, Job job, double progress)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new Heartbeat(job.ClaimToken!, progress), WireJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }
}
