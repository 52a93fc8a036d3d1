using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Upkeep;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Retention deletes ended jobs RetentionDays after they ended, on a clock the test moves; pending and running jobs stay.</summary>
[Trait("Store", TestStore.Contract)]
[RunsLong]
public sealed class RetentionTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly List<QueueFactory> hosts = [];
    private readonly List<string> files = [];

    public void Dispose()
    {
        foreach (var host in hosts) host.Dispose();
        foreach (var file in files) TestStore.Delete(file);
    }

    /// <summary>A SQLite file of the test's own (for the tests about SQLite's file), removed at the end.</summary>
    private string NewSqliteFile()
    {
        var path = TestStore.NewSqlitePath();
        files.Add(path);
        return path;
    }

    private (QueueFactory Host, HttpClient Client) Start(string retentionDays = "30", string? database = null)
    {
        var host = new QueueFactory(database, new Dictionary<string, string?>
        {
            ["RetentionDays"] = retentionDays,
            ["LeaseSweepSeconds"] = "3600",              // the upkeep runs when the test says so
            ["LeaderLeaseSeconds"] = "7200",
            ["LeaseSeconds"] = (400 * 24 * 3600).ToString(), // so the running job stays running however far the clock moves
        }, clock);
        hosts.Add(host);
        return (host, host.CreateApiClient());
    }

    private static Task Upkeep(QueueFactory host) => host.GetService<UpkeepLoop>().RunRoundAsync();

    [Fact]
    public async Task EndedJobsGoRetentionDaysAfterTheyEndedWhileYoungerAndLiveJobsStay()
    {
        var (host, client) = Start();
        var old = await EndOneOfEachAsync(client, "old");
        // Below every other job in claim order, so the claims below never take it.
        var pending = (await client.EnqueueAsync(new { file_name = "waiting.mkv", crf = "23", preset = "fast", priority = -1 }))[0];
        var running = await ClaimAsync(client, "running.mkv");

        clock.Advance(TimeSpan.FromDays(20));
        var young = await EndOneOfEachAsync(client, "young");
        clock.Advance(TimeSpan.FromDays(10) + TimeSpan.FromMinutes(1));
        await Upkeep(host);

        foreach (var job in old)
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.Id}")).StatusCode);
        var kept = await client.ListAsync();
        Assert.Equal(young.Select(job => job.Id).Append(pending.Id).Append(running.Id).Order(), kept.Select(job => job.Id).Order());
        Assert.Equal(JobStatus.InProgress, kept.Single(job => job.Id == running.Id).Status);
        Assert.Contains(host.LogLines, line => line.StartsWith("Retention deleted 3 jobs that ended more than 30 days ago", StringComparison.Ordinal));
        // The running job's worker is unaffected: it still finishes with its claim.
        var finished = await client.PostAsJsonAsync($"/api/jobs/{running.Id}/finish", new ClaimProof(running.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
    }

    [Fact]
    public async Task RetentionDaysZeroKeepsEveryJob()
    {
        var (host, client) = Start(retentionDays: "0");
        var ended = await EndOneOfEachAsync(client, "kept");
        clock.Advance(TimeSpan.FromDays(3650));
        await Upkeep(host);
        Assert.Equal(ended.Select(job => job.Id).Order(), (await client.ListAsync()).Select(job => job.Id).Order());
    }

    [Fact]
    public async Task TheAuditTrailIsKeptAYear()
    {
        var (host, client) = Start();
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/jobs/{job.Id}")).StatusCode);

        clock.Advance(TimeSpan.FromDays(364));
        await Upkeep(host);
        Assert.Contains("job.delete", await client.GetStringAsync("/api/audit"));

        clock.Advance(TimeSpan.FromDays(2));
        await Upkeep(host);
        Assert.DoesNotContain("job.delete", await client.GetStringAsync("/api/audit"));
    }

    [Fact]
    public async Task ABacklogLargerThanARoundIsDeletedOverSeveralRounds()
    {
        var (host, client) = Start();
        const int count = 12 * JobRetention.BatchSize;   // more than one round's ten batches
        for (var sent = 0; sent < count; sent += 1000)
            await client.EnqueueAsync(Enumerable.Range(sent, 1000).Select(i => QueueCalls.NewJob($"bulk/{i}.mkv")).ToArray());
        await CancelAllAsync(host, client);
        var live = (await client.EnqueueAsync(QueueCalls.NewJob("live.mkv")))[0];
        clock.Advance(TimeSpan.FromDays(31));

        await Upkeep(host);
        using (var stats = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/stats")))
            Assert.Equal(2 * JobRetention.BatchSize + 1, stats.RootElement.GetProperty("total").GetInt64());
        await Upkeep(host);   // a backlog does not wait a minute for its next round
        Assert.Equal([live.Id], (await client.ListAsync()).Select(job => job.Id));
    }

    /// <summary>The SQLite file hands the pages of deleted jobs back: it shrinks, rather than keeping them as free pages.</summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task TheSqliteFileShrinksAfterRetentionDeletesJobs()
    {
        var path = NewSqliteFile();
        var (host, client) = Start(database: path);
        var longName = new string('n', 900);
        for (var sent = 0; sent < 3000; sent += 1000)
            await client.EnqueueAsync(Enumerable.Range(sent, 1000).Select(i => QueueCalls.NewJob($"{longName}/{i}.mkv")).ToArray());
        await CancelAllAsync(host, client);
        var (fullPages, _) = FileSpace(path);

        clock.Advance(TimeSpan.FromDays(31));
        await Upkeep(host);

        Assert.Empty(await client.ListAsync());
        var (pages, free) = FileSpace(path);
        Assert.Equal(0, free);
        Assert.True(pages < fullPages / 4, $"{pages} pages after deleting every job, {fullPages} before");
    }

    /// <summary>A file made before incremental vacuum (auto_vacuum NONE) is converted once at start, its jobs intact.</summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task AnOlderSqliteFileIsConvertedToIncrementalVacuumAtStart()
    {
        var path = NewSqliteFile();
        Job[] before;
        using (var first = new QueueFactory(path))
            before = await first.CreateApiClient().EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"));
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Execute(connection, "PRAGMA auto_vacuum = NONE; VACUUM;");
            Assert.Equal(0L, Scalar(connection, "PRAGMA auto_vacuum"));
        }

        using (var second = new QueueFactory(path))
        {
            Assert.Equal(before.Select(job => job.Id), (await second.CreateApiClient().ListAsync()).Select(job => job.Id).Order());
            Assert.Contains(second.LogLines, line => line.StartsWith("Converting the database file to incremental vacuum", StringComparison.Ordinal));
        }
        using var reopened = new SqliteConnection($"Data Source={path};Pooling=False");
        reopened.Open();
        Assert.Equal(2L, Scalar(reopened, "PRAGMA auto_vacuum"));
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task ANegativeRetentionDaysIsRefusedAtStart()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            HostProcess.StartAsync(new Uri($"http://127.0.0.1:{FreePort.Find()}"), NewSqliteFile(), ("RETENTIONDAYS", "-1")));
        Assert.Contains("RetentionDays must be 0 (keep ended jobs forever) or more (set VIDEOENCODE_RETENTIONDAYS), not -1.", refused.Message);
    }

    /// <summary>A finished, a failed and a cancelled job, ended now.</summary>
    private static async Task<Job[]> EndOneOfEachAsync(HttpClient client, string prefix)
    {
        var finished = await ClaimAsync(client, $"{prefix}-finished.mkv");
        await Succeeds(client.PostAsJsonAsync($"/api/jobs/{finished.Id}/finish", new ClaimProof(finished.ClaimToken!), WireJson.Options));
        var failed = await ClaimAsync(client, $"{prefix}-failed.mkv");
        await Succeeds(client.PostAsJsonAsync($"/api/jobs/{failed.Id}/fail", new FailureReport("broken", ClaimToken: failed.ClaimToken), WireJson.Options));
        var cancelled = (await client.EnqueueAsync(QueueCalls.NewJob($"{prefix}-cancelled.mkv")))[0];
        await Succeeds(client.PostAsync($"/api/jobs/{cancelled.Id}/cancel", null));
        return [finished, failed, cancelled];
    }

    /// <summary>Enqueues one job and claims it (any other pending job has a lower priority).</summary>
    private static async Task<Job> ClaimAsync(HttpClient client, string fileName)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob(fileName)))[0];
        var response = await Succeeds(client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("encoder-1"), WireJson.Options));
        var claimed = (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
        Assert.Equal(job.Id, claimed.Id);
        return claimed;
    }

    /// <summary>
    /// Cancels every pending job, through the store (several at once, without an HTTP request each). Not all
    /// at once: thousands of cancels waiting on PostgreSQL's pool of 20 outwait its 15 s on a busy machine.
    /// </summary>
    private static async Task CancelAllAsync(QueueFactory host, HttpClient client)
    {
        var store = host.GetService<IJobStore>();
        var pending = new List<long>();
        for (Job[] page; (page = await client.ListAsync($"status=pending&limit=1000{(pending.Count > 0 ? $"&before_id={pending[^1]}" : "")}")).Length > 0;)
            pending.AddRange(page.Select(job => job.Id));
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (id, _) => await store.CancelAsync(id, token: null, actor: null, CancellationToken.None));
    }

    private static (long Pages, long Free) FileSpace(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return ((long)Scalar(connection, "PRAGMA page_count")!, (long)Scalar(connection, "PRAGMA freelist_count")!);
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task<HttpResponseMessage> Succeeds(Task<HttpResponseMessage> sending)
    {
        var response = await sending;
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }
}
