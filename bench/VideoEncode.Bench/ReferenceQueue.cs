using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>
/// The naive queue the host is measured against: a minimal API over one SQLite table, a claim that is one
/// <c>UPDATE … RETURNING</c>, a finish that is one <c>UPDATE</c> checking the token, no events, no metrics, no
/// workers table, no search, no auth beyond a constant-time compare of the key, and not durable
/// (<c>synchronous=OFF</c>: an acknowledged write may be lost with the machine). It speaks just enough of the
/// host's wire (enqueue an array, claim, finish with the claim token) for the same client to drive both.
/// Run by the bench as its own process: <c>VideoEncode.Bench --reference-queue URL DATABASE</c>.
/// </summary>
public static class ReferenceQueue
{
    private sealed record NewJob(string FileName, string? Crf, string? Preset);
    private sealed record ClaimedJob(long Id, string FileName, string? Crf, string? Preset, string ClaimToken);
    private sealed record FinishRequest(string? ClaimToken);

    public static async Task RunAsync(string url, string databasePath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url);
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        var app = builder.Build();

        // One connection, one request at a time on it: the simplest thing that is correct on SQLite.
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        using var database = new SqliteConnection($"Data Source={databasePath}");
        database.Open();
        Execute(database, """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
            CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, file_name TEXT NOT NULL, crf TEXT, preset TEXT,
                status TEXT NOT NULL DEFAULT 'pending', claim_token TEXT, worker TEXT, finished_at INTEGER);
            CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (id) WHERE status = 'pending';
            """);
        var gate = new SemaphoreSlim(1);
        var key = Encoding.UTF8.GetBytes(QueueFactory.ApiKey);

        app.Use(async (context, next) =>
        {
            if (context.Request.Path != "/health" &&
                !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers["X-API-Key"].ToString()), key))
            {
                context.Response.StatusCode = 401;
                return;
            }
            await next(context);
        });
        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        app.MapPost("/api/jobs", async (NewJob[] jobs) =>
        {
            var ids = new List<long>(jobs.Length);
            await gate.WaitAsync();
            try
            {
                using var transaction = database.BeginTransaction();
                using var insert = database.CreateCommand();
                insert.CommandText = "INSERT INTO jobs (file_name, crf, preset) VALUES ($file, $crf, $preset) RETURNING id";
                var file = insert.Parameters.Add("$file", SqliteType.Text);
                var crf = insert.Parameters.Add("$crf", SqliteType.Text);
                var preset = insert.Parameters.Add("$preset", SqliteType.Text);
                foreach (var job in jobs)
                {
                    (file.Value, crf.Value, preset.Value) = (job.FileName, (object?)job.Crf ?? DBNull.Value, (object?)job.Preset ?? DBNull.Value);
                    ids.Add((long)insert.ExecuteScalar()!);
                }
                transaction.Commit();
            }
            finally
            {
                gate.Release();
            }
            return Results.Created("/api/jobs", ids.Select(id => new { id, status = "pending" }));
        });
        app.MapPost("/api/jobs/claim", async (HttpRequest request) =>
        {
            var worker = request.ContentLength > 0 ? (await JsonDocument.ParseAsync(request.Body)).RootElement.GetProperty("worker").GetString() : null;
            await gate.WaitAsync();
            try
            {
                using var claim = database.CreateCommand();
                claim.CommandText = """
                    UPDATE jobs SET status = 'running', claim_token = $token, worker = $worker
                    WHERE id = (SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1)
                    RETURNING id, file_name, crf, preset, claim_token
                    """;
                claim.Parameters.AddWithValue("$token", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
                claim.Parameters.AddWithValue("$worker", (object?)worker ?? DBNull.Value);
                using var row = claim.ExecuteReader();
                if (!row.Read()) return Results.NotFound(new { error = "No jobs available" });
                return Results.Ok(new ClaimedJob(row.GetInt64(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetString(2),
                    row.IsDBNull(3) ? null : row.GetString(3), row.GetString(4)));
            }
            finally
            {
                gate.Release();
            }
        });
        app.MapPost("/api/jobs/{id:long}/finish", async (long id, FinishRequest body) =>
        {
            if (body.ClaimToken is null) return Results.BadRequest(new { error = "claim_token is required" });
            await gate.WaitAsync();
            try
            {
                using var finish = database.CreateCommand();
                finish.CommandText = "UPDATE jobs SET status = 'done', finished_at = unixepoch() WHERE id = $id AND status = 'running' AND claim_token = $token";
                finish.Parameters.AddWithValue("$id", id);
                finish.Parameters.AddWithValue("$token", body.ClaimToken);
                return finish.ExecuteNonQuery() == 1 ? Results.Ok(new { id, status = "completed" }) : Results.Conflict(new { error = "Not this job's claim" });
            }
            finally
            {
                gate.Release();
            }
        });
        await app.RunAsync();
    }

    private static void Execute(SqliteConnection database, string sql)
    {
        using var command = database.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Starts the reference queue as a process of its own (this bench's own build) and waits until it answers.</summary>
    public static async Task<Process> StartAsync(Uri address, string databasePath)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "VideoEncode.Bench.dll"), "--reference-queue", address.ToString().TrimEnd('/'), databasePath })
            start.ArgumentList.Add(argument);
        // The host's one runtime setting (its runtimeconfig): idle thread-pool threads sleep at once instead of spinning,
        // so the two differ in the work they do, not in how their threads wait for it.
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) Console.Error.WriteLine($"reference queue: {line.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(100))
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return process;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (process.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("The reference queue did not start.");
        }
    }
}
