using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using VideoEncode.Contracts;

namespace VideoEncode.Browser.Tests;

/// <summary>Jobs put in a given state through the API, as workers and people would.</summary>
internal static class QueueSeeding
{
    /// <summary>Claims the next job as <paramref name="worker"/> and answers it (with its claim token).</summary>
    public static async Task<Job> ClaimAsAsync(this HttpClient api, string worker)
    {
        var response = await api.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker), WireJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    /// <summary>Claims and fails the next <paramref name="count"/> jobs.</summary>
    public static async Task FailNextAsync(this HttpClient api, int count, string error = "ffmpeg exited with code 1: Invalid data found when processing input")
    {
        for (var i = 0; i < count; i++)
        {
            var job = await api.ClaimAsAsync("box");
            (await api.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport(error, ClaimToken: job.ClaimToken), WireJson.Options))
                .EnsureSuccessStatusCode();
        }
    }

    /// <summary>Claims and finishes the next <paramref name="count"/> jobs as <paramref name="worker"/>.</summary>
    public static async Task FinishNextAsync(this HttpClient api, int count, string worker = "box")
    {
        for (var i = 0; i < count; i++)
        {
            var job = await api.ClaimAsAsync(worker);
            (await api.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new FinishReport(job.ClaimToken!), WireJson.Options)).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Claims the next job as <paramref name="worker"/> and reports <paramref name="progress"/> for it.</summary>
    public static async Task<Job> RunNextAsync(this HttpClient api, string worker, double progress)
    {
        var job = await api.ClaimAsAsync(worker);
        (await api.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new Heartbeat(job.ClaimToken!, progress, 1.8, 95), WireJson.Options))
            .EnsureSuccessStatusCode();
        return job;
    }

    /// <summary>
    /// Makes <paramref name="next"/> the id the host hands the next job, as a farm that has run millions of
    /// jobs would, without enqueuing them: the store's id counter is moved in the host's fresh database.
    /// </summary>
    public static async Task NumberNextJobAsync(this QueueFactory host, long next)
    {
        if (TestStore.IsPostgres)
        {
            await using var connection = new NpgsqlConnection(host.Database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT setval(pg_get_serial_sequence('jobs', 'id'), @last)", connection);
            command.Parameters.AddWithValue("last", next - 1);
            await command.ExecuteScalarAsync();
        }
        else
        {
            await using var connection = new SqliteConnection($"Data Source={host.Database};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            // sqlite_sequence holds an AUTOINCREMENT table's last id once it has one; a fresh queue has no row yet.
            command.CommandText = "DELETE FROM sqlite_sequence WHERE name = 'jobs'; INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', $last)";
            command.Parameters.AddWithValue("$last", next - 1);
            await command.ExecuteNonQueryAsync();
        }
    }
}
