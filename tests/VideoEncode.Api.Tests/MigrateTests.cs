using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>`VideoEncode.Api migrate` copies a SQLite queue into PostgreSQL, run as the real command, as an operator would.</summary>
// Every test names its SQLite file and its PostgreSQL database itself, whichever store the run is
// for, so test.sh's second (PostgreSQL) run of the API tests would only repeat them: it skips them.
[Trait("Store", TestStore.RunOnce)]
[RunsLong]
public sealed class MigrateTests : IDisposable
{
    private const string KeyedBody = """[{"file_name": "keyed-1.mkv", "crf": "23", "preset": "fast"}, {"file_name": "keyed-2.mkv", "crf": "20", "preset": "slow"}]""";

    private readonly string sqlite = TestStore.NewSqlitePath();
    private readonly List<string> postgres = [];

    public void Dispose()
    {
        TestStore.Delete(sqlite);
        foreach (var database in postgres) TestStore.Delete(database);
    }

    [Fact]
    public async Task ASqliteQueueMovesWithItsIdsClaimsWorkersAndKeysAndCarriesOnInPostgres()
    {
        Job[] before, keyed;
        Job running;
        string workerKey;
        long deleted;
        string workers;
        using (var host = new QueueFactory(sqlite))
        {
            var client = host.CreateApiClient();
            await client.EnqueueAsync(QueueCalls.NewJob("to-finish.mkv"), QueueCalls.NewJob("to-fail.mkv"), QueueCalls.NewJob("to-run.mkv", "18.5"));
            var toFinish = await ClaimAsync(client);
            var toFail = await ClaimAsync(client);
            running = await ClaimAsync(client);
            await Succeeds(client.PostAsJsonAsync($"/api/jobs/{toFinish.Id}/finish", new ClaimProof(toFinish.ClaimToken!), WireJson.Options));
            await Succeeds(client.PostAsJsonAsync($"/api/jobs/{toFail.Id}/fail",
                new FailureReport("ffmpeg exited with code 1", "moov atom not found", toFail.ClaimToken), WireJson.Options));
            await Succeeds(client.PostAsJsonAsync($"/api/jobs/{running.Id}/heartbeat", new Heartbeat(running.ClaimToken!, 42.5, 1.25, 30), WireJson.Options));
            keyed = await PostWithKeyAsync(client);
            await client.EnqueueAsync(new { file_name = "urgent.mkv", crf = "23", preset = "fast", priority = 5, overwrite = true });
            // The newest job deleted: its id must not be handed out again, in PostgreSQL either.
            deleted = (await client.EnqueueAsync(QueueCalls.NewJob("deleted.mkv")))[0].Id;
            await Succeeds(client.DeleteAsync($"/api/jobs/{deleted}"));
            workerKey = await KeyCalls.CreateKeyAsync(client, "encoder-1", "worker");
            before = await client.ListAsync();
            workers = await client.GetStringAsync("/api/workers");
        }
        var target = NewPostgresDatabase();

        var (exit, stdout, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.True(exit == 0, stderr);
        Assert.Contains("Copied 6 jobs (3 pending, 1 in_progress, 1 finished, 1 failed), 1 worker, 1 idempotency key, 1 API key, " +
                        "2 audit trail entries from", stdout);
        using var moved = new QueueFactory(target);
        var onPostgres = moved.CreateApiClient();
        Assert.Equal(before, await onPostgres.ListAsync());
        Assert.Equal(workers, await onPostgres.GetStringAsync("/api/workers"));

        var finished = await Succeeds(onPostgres.PostAsJsonAsync($"/api/jobs/{running.Id}/finish", new ClaimProof(running.ClaimToken!), WireJson.Options));
        Assert.Equal(JobStatus.Finished, (await finished.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Status);
        Assert.InRange((await onPostgres.EnqueueAsync(QueueCalls.NewJob("new.mkv")))[0].Id, deleted + 1, long.MaxValue);
        Assert.Equal(keyed, await PostWithKeyAsync(onPostgres));
        // The stored keys and the audit trail came along; the trail's ids go on after the copied ones.
        Assert.Equal(HttpStatusCode.OK, (await moved.CreateApiClient(workerKey).GetAsync("/api/jobs")).StatusCode);
        await Succeeds(onPostgres.DeleteAsync($"/api/jobs/{running.Id}"));
        var trail = (await onPostgres.GetFromJsonAsync<VideoEncode.Api.Audit.AuditEntry[]>("/api/audit", WireJson.Options))!;
        Assert.Equal(["job.delete", "key.create", "job.delete"], trail.Select(entry => entry.Action));
        Assert.Equal(trail.Select(entry => entry.Id).OrderDescending(), trail.Select(entry => entry.Id));
    }

    [Fact]
    public async Task APausedQueueAndADrainedWorkerStaySoInPostgres()
    {
        string state;
        using (var host = new QueueFactory(sqlite))
        {
            var client = host.CreateApiClient();
            await Succeeds(client.PostAsync("/api/queue/pause", null));
            await Succeeds(client.PostAsync("/api/workers/box-1/drain", null));
            state = await client.GetStringAsync("/api/queue");
        }
        var target = NewPostgresDatabase();

        var (exit, _, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.True(exit == 0, stderr);
        using var moved = new QueueFactory(target);
        var onPostgres = moved.CreateApiClient();
        Assert.Equal(state, await onPostgres.GetStringAsync("/api/queue"));
        Assert.Contains("\"draining\":true", await onPostgres.GetStringAsync("/api/workers"));
    }

    [Fact]
    public async Task WebhooksMoveWithTheirUnsentDeliveriesWhichTheNewHostSends()
    {
        var port = FreePort.Find(); // the receiver is down while the queue is on SQLite
        var allowPrivate = new Dictionary<string, string?> { ["WebhooksAllowPrivate"] = "true" };
        long webhook;
        using (var host = new QueueFactory(sqlite, allowPrivate))
        {
            var client = host.CreateApiClient();
            var created = await Succeeds(client.PostAsJsonAsync("/api/webhooks",
                new { url = $"http://127.0.0.1:{port}/hook/", events = new[] { "job.created" }, secret = "a-secret-of-some-length" }));
            using var body = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            webhook = body.RootElement.GetProperty("id").GetInt64();
            await client.EnqueueAsync(QueueCalls.NewJob("announced.mkv"));
        }
        var target = NewPostgresDatabase();

        var (exit, stdout, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.True(exit == 0, stderr);
        Assert.Contains(", 1 webhook, 1 webhook delivery from", stdout);
        using var receiver = new WebhookReceiver(port);
        var later = new ManualClock();
        later.Advance(TimeSpan.FromHours(1)); // past any retry the SQLite host scheduled
        using var moved = new QueueFactory(target, allowPrivate, later);
        var onPostgres = moved.CreateApiClient(); // starts the host
        await Eventually.TrueAsync(() => !receiver.Received.IsEmpty, () => "the moved delivery was not sent");
        Assert.Contains("announced.mkv", Assert.Single(receiver.Received).Body);
        var another = await Succeeds(onPostgres.PostAsJsonAsync("/api/webhooks",
            new { url = $"http://127.0.0.1:{port}/other/", events = new[] { "job.failed" } }));
        using var anotherBody = System.Text.Json.JsonDocument.Parse(await another.Content.ReadAsStringAsync());
        Assert.True(anotherBody.RootElement.GetProperty("id").GetInt64() > webhook);
    }

    /// <summary>Saved profiles and the files watched folders enqueued move too: a watcher pointed at the new host enqueues nothing twice.</summary>
    [Fact]
    public async Task ProfilesAndWatchedFilesMoveSoNoWatchedFileIsEnqueuedAgain()
    {
        var watched = new { file_name = "inbox/a.mkv", profile = "mine", source = new { path = "inbox/a.mkv", size = 10, mtime = 1234 } };
        using (var host = new QueueFactory(sqlite))
        {
            var client = host.CreateApiClient();
            await Succeeds(client.PutAsJsonAsync("/api/profiles/mine", new { video_codec = "hevc", crf = 26 }));
            await client.EnqueueAsync(watched);
        }
        var target = NewPostgresDatabase();

        var (exit, stdout, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.True(exit == 0, stderr);
        Assert.Contains("1 profile, 1 watched file", stdout);
        using var moved = new QueueFactory(target);
        var onPostgres = moved.CreateApiClient();
        Assert.Equal(HttpStatusCode.Conflict, (await onPostgres.PostAsJsonAsync("/api/jobs", watched)).StatusCode);
        Assert.Equal("26", (await onPostgres.GetFromJsonAsync<VideoEncode.Api.Profiles.Profile>("/api/profiles/mine", WireJson.Options))!.Settings.Crf);
    }

    /// <summary>The uploads table moves with the queue; its files stay in the media folder, which the new host is given.</summary>
    [Fact]
    public async Task UploadsMoveAndAHostOnTheSameMediaFolderServesThem()
    {
        var media = new Dictionary<string, string?> { ["Media"] = TestStore.MediaFolder(sqlite), ["MediaReserveBytes"] = "0" };
        var bytes = TusCalls.RandomBytes(1000);
        long job;
        using (var host = new QueueFactory(sqlite, media))
        {
            var client = host.CreateApiClient();
            var upload = await client.UploadAsync(bytes, "moved.mkv");
            job = (await client.EnqueueAsync(QueueCalls.NewJob("moved.mkv")))[0].Id;
            await host.GetService<VideoEncode.Api.Database.IStoreSql>().WriteAsync(connection =>
                Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE jobs SET input_upload = @upload WHERE id = @job", new { upload, job }));
        }
        var target = NewPostgresDatabase();

        var (exit, stdout, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.True(exit == 0, stderr);
        Assert.Contains(", 1 upload from", stdout);
        using var moved = new QueueFactory(target, media);
        var download = await moved.CreateApiClient().GetAsync($"/api/jobs/{job}/input");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ATargetThatAlreadyHoldsAQueueIsRefusedAndLeftAsItWas()
    {
        var target = NewPostgresDatabase();
        Job[] held;
        using (var host = new QueueFactory(target))
        {
            var client = host.CreateApiClient();
            await client.EnqueueAsync(QueueCalls.NewJob("already-here.mkv"));
            held = await client.ListAsync();
        }
        using (var host = new QueueFactory(sqlite))
            await host.CreateApiClient().EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv"));

        var (exit, stdout, stderr) = await RunMigrateAsync("--from", sqlite, "--to", target);

        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("already holds 1 job; migrate copies into an empty queue only, and wrote nothing", line);
        using var unchanged = new QueueFactory(target);
        var onPostgres = unchanged.CreateApiClient();
        Assert.Equal(held, await onPostgres.ListAsync());
        // The ids go on where they were, so the id sequence was not moved either.
        Assert.Equal(held[0].Id + 1, (await onPostgres.EnqueueAsync(QueueCalls.NewJob("next.mkv")))[0].Id);
    }

    [Fact]
    public async Task AMissingSqliteFileIsOneClearLineAndNothingIsCreated()
    {
        var missing = Path.Combine(Path.GetDirectoryName(sqlite)!, "not-here.db");

        var (exit, _, stderr) = await RunMigrateAsync("--from", missing, "--to", "Host=127.0.0.1;Port=1;Database=unused");

        Assert.Equal(1, exit);
        Assert.Equal($"There is no SQLite queue at '{missing}' (--from): the file does not exist.", stderr.Trim());
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public async Task AnUnreachableServerIsOneClearLineWithoutThePassword()
    {
        using (var host = new QueueFactory(sqlite))
            await host.CreateApiClient().EnqueueAsync(QueueCalls.NewJob());
        var port = FreePort.Find();

        var (exit, _, stderr) = await RunMigrateAsync("--from", sqlite, "--to", $"postgres://encoder:s3cret-pw@127.0.0.1:{port}/videoencode");

        Assert.Equal(1, exit);
        Assert.StartsWith($"Cannot copy into the PostgreSQL database 'videoencode' on 127.0.0.1:{port}", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("s3cret-pw", stderr);
    }

    private string NewPostgresDatabase()
    {
        // Empty, as an operator's new database is: migrate brings it to the schema itself.
        var database = TestStore.NewEmptyPostgresDatabase();
        postgres.Add(database);
        return database;
    }

    private static async Task<Job> ClaimAsync(HttpClient client)
    {
        var response = await Succeeds(client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("encoder-1"), WireJson.Options));
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private static async Task<Job[]> PostWithKeyAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(KeyedBody, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", "move-me");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
    }

    private static async Task<HttpResponseMessage> Succeeds(Task<HttpResponseMessage> sending)
    {
        var response = await sending;
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>`dotnet VideoEncode.Api.dll migrate …`, as an operator runs it: its exit code, stdout and stderr.</summary>
    private static Task<(int Exit, string Stdout, string Stderr)> RunMigrateAsync(params string[] options) =>
        HostCommand.RunAsync(["migrate", .. options]);
}
