using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Backups taken while clients keep enqueueing — through GET /api/backup and through the `backup`
/// command run as a real process — restore into a queue holding every job acknowledged before the
/// backup began.
/// </summary>
public sealed class BackupTests : IDisposable
{
    private readonly List<string> databases = [];

    public void Dispose()
    {
        foreach (var database in databases) TestStore.Delete(database);
    }

    private string NewSqliteFile()
    {
        var path = TestStore.NewSqlitePath();
        databases.Add(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task ABackupDownloadedUnderLoadRestoresEveryJobAcknowledgedBeforeIt()
    {
        var path = NewSqliteFile();
        var backup = NewSqliteFile();
        long[] acknowledgedBefore;
        using (var host = new QueueFactory(path))
        {
            await using (var load = await EnqueueLoad.StartAsync(host))
            {
                acknowledgedBefore = load.Acknowledged;
                var response = await host.CreateApiClient().GetAsync("/api/backup", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("application/vnd.sqlite3", response.Content.Headers.ContentType!.MediaType);
                Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
                Assert.Matches(@"^videoencode-\d{8}-\d{6}\.db$", response.Content.Headers.ContentDisposition.FileNameStar);
                await using (var file = File.Create(backup))
                    await response.Content.CopyToAsync(file);
                await load.ReachesAsync(acknowledgedBefore.Length + 100);   // the writers were never stopped
            }
            // The snapshot beside the database is gone once sent.
            await Eventually.TrueAsync(() => !Directory.EnumerateFiles(Path.GetDirectoryName(path)!, ".backup-*").Any(),
                () => string.Join('\n', Directory.EnumerateFiles(Path.GetDirectoryName(path)!)));
            Assert.Contains("\"action\":\"backup\"", await host.CreateApiClient().GetStringAsync("/api/audit"));
        }

        await AssertRestoresAsync(backup, acknowledgedBefore);
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task TheBackupCommandCopiesARunningQueueAndKeepsAnExistingFileUnlessForced()
    {
        var path = NewSqliteFile();
        var backup = Path.Combine(Path.GetDirectoryName(NewSqliteFile())!, "backup.db");
        long[] acknowledgedBefore;
        using (var host = new QueueFactory(path))
        {
            await using var load = await EnqueueLoad.StartAsync(host);
            acknowledgedBefore = load.Acknowledged;
            var (exit, stdout, stderr) = await RunBackupAsync("--to", backup, "--database", path);
            Assert.True(exit == 0, stderr);
            Assert.Matches(@"^Backed up .+ to .+backup\.db: \d+\.\d MB, \d+ jobs\.", stdout);
            Assert.Equal([], Directory.EnumerateFiles(Path.GetDirectoryName(backup)!, "*.partial"));

            var again = await RunBackupAsync("--to", backup, "--database", path);
            Assert.Equal(1, again.Exit);
            Assert.Contains("exists; choose another --to, or add --force to replace it.", again.Stderr);
            var forced = await RunBackupAsync("--to", backup, "--database", path, "--force");
            Assert.True(forced.Exit == 0, forced.Stderr);
        }

        await AssertRestoresAsync(backup, acknowledgedBefore);
    }

    [Fact]
    public async Task OnlyAdminsMayTakeABackup()
    {
        using var host = new QueueFactory();
        var admin = host.CreateApiClient();
        var created = await admin.PostAsJsonAsync("/api/keys", new { name = "submitter", role = "submit" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var submitter = host.CreateApiClient(body.RootElement.GetProperty("key").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await submitter.GetAsync("/api/backup")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.CreateApiClient(key: null).GetAsync("/api/backup")).StatusCode);
    }

    /// <summary>The host does not copy a PostgreSQL queue: the route and the command name the pg_dump command, without the password.</summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task APostgresQueueIsToldToUsePgDump()
    {
        var database = TestStore.NewPostgresDatabase();
        databases.Add(database);
        var withPassword = new Npgsql.NpgsqlConnectionStringBuilder(database) { Password = "secret-pw" }.ConnectionString;
        using var host = new QueueFactory(database);

        var response = await host.CreateApiClient().GetAsync("/api/backup");
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        var advice = await QueueCalls.ErrorOf(response);
        var name = new Npgsql.NpgsqlConnectionStringBuilder(database).Database;
        Assert.Contains($"pg_dump --format=custom --host=127.0.0.1 --port=", advice);
        Assert.Contains($"--dbname={name} --file=videoencode-", advice);
        Assert.Contains("pg_restore", advice);

        var (exit, _, stderr) = await RunBackupAsync("--to", "queue.dump", "--database", withPassword);
        Assert.Equal(1, exit);
        Assert.Contains($"--dbname={name} --file=queue.dump", stderr);
        Assert.DoesNotContain("secret-pw", stderr);
    }

    /// <summary>The backup opens cleanly, and a host started on it holds every job acknowledged before the backup began.</summary>
    private static async Task AssertRestoresAsync(string backup, long[] acknowledgedBefore)
    {
        using (var connection = new SqliteConnection($"Data Source={backup};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", check.ExecuteScalar());
        }
        using var restored = new QueueFactory(backup);
        var client = restored.CreateApiClient();
        var ids = new HashSet<long>();
        for (Job[] page; (page = await client.ListAsync($"status=all&limit=1000{(ids.Count > 0 ? $"&before_id={ids.Min()}" : "")}")).Length > 0;)
            ids.UnionWith(page.Select(job => job.Id));
        Assert.NotEmpty(acknowledgedBefore);
        var missing = acknowledgedBefore.Where(id => !ids.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledgedBefore.Length} acknowledged jobs missing, e.g. {string.Join(", ", missing.Take(5))}");
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunBackupAsync(params string[] options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Api.dll"));
        start.ArgumentList.Add("backup");
        foreach (var option in options) start.ArgumentList.Add(option);

        using var command = Process.Start(start)!;
        var stdout = command.StandardOutput.ReadToEndAsync();
        var stderr = command.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await command.WaitForExitAsync(timeout.Token);
        return (command.ExitCode, await stdout, await stderr);
    }

    /// <summary>Four clients enqueueing one job at a time until disposed, each id noted once its 201 arrived.</summary>
    private sealed class EnqueueLoad : IAsyncDisposable
    {
        private readonly ConcurrentQueue<long> acknowledged = new();
        private readonly CancellationTokenSource stop = new();
        private readonly Task[] clients;

        // The clients are made here, one after another: WebApplicationFactory starts its server on the first
        // CreateClient, and four first calls at once race (one sees a server not started yet).
        private EnqueueLoad(QueueFactory host) =>
            clients = Enumerable.Range(0, 4).Select(client => (client, http: host.CreateApiClient())).ToList().Select(pair => Task.Run(async () =>
            {
                var (client, http) = pair;
                for (var i = 0; !stop.IsCancellationRequested; i++)
                    foreach (var job in await http.EnqueueAsync(QueueCalls.NewJob($"load/{client}/{i}.mkv")))
                        acknowledged.Enqueue(job.Id);
            })).ToArray();

        /// <summary>Starts the clients and returns once they have stored a few hundred jobs.</summary>
        public static async Task<EnqueueLoad> StartAsync(QueueFactory host)
        {
            var load = new EnqueueLoad(host);
            await load.ReachesAsync(300);
            return load;
        }

        /// <summary>The ids acknowledged so far.</summary>
        public long[] Acknowledged => acknowledged.ToArray();

        public Task ReachesAsync(int count) =>
            Eventually.TrueAsync(() => acknowledged.Count >= count || clients.Any(client => client.IsFaulted),
                () => $"{acknowledged.Count} acknowledged");

        public async ValueTask DisposeAsync()
        {
            stop.Cancel();
            await Task.WhenAll(clients);
            stop.Dispose();
        }
    }
}
