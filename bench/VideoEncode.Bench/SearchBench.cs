using System.Diagnostics;
using System.Net.Http.Json;
using VideoEncode.Contracts;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One store's search figures: p50 and p99 of each query's first page, and how long the queue took to fill.</summary>
public sealed record SearchRow(string Store, int Jobs, double FillSeconds, IReadOnlyList<(string Query, double P50, double P99)> Queries);

/// <summary>
/// GET /api/jobs?q=… on a queue of many jobs with names like a media library's
/// ("shows/show-0123/season-04/episode-0567 take-8c1f.mkv"): a rare word (one job), a word in 1 %
/// of the names, one in every name, a two-character search (no trigram index: a scan), and a rare
/// word with a status filter. Each query asks the first page of 50, newest first, as view-jobs does.
/// </summary>
public static class SearchBench
{
    public static readonly (string Label, string Query)[] Queries =
    [
        ("rare word, 1 match", "q=needle-in-the-haystack"),
        ("1 % of names", "q=show-0042/"),
        ("every name", "q=episode"),
        ("two characters (LIKE scan on SQLite; no trigram help)", "q=zq"),
        ("rare word + status=pending", "q=needle-in-the-haystack&status=pending"),
        ("1 % of names, sort=priority", "q=show-0042/&sort=priority"),
    ];

    public static async Task<SearchRow> MeasureAsync(string store, string database, int jobs)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        using var host = await HostProcess.StartAsync(address, database);
        using var http = QueueLoad.NewClient(address);
        Console.WriteLine($"Search on {store}: filling {jobs:N0} jobs (host pid {host.Id})");
        var fill = Stopwatch.StartNew();
        var batches = jobs / 1000;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var batch = Interlocked.Increment(ref next); batch < batches; batch = Interlocked.Increment(ref next))
            {
                var names = Enumerable.Range(0, 1000).Select(i => batch * 1000 + i).Select(n => new
                {
                    file_name = n == jobs / 2 ? "archive/needle-in-the-haystack.mkv"
                        : $"shows/show-{n % 100:0000}/season-{n / 100 % 20:00}/episode-{n % 997:0000} take-{Hash(n):x4}.mkv",
                    crf = "23",
                    preset = "fast",
                }).ToArray();
                (await http.PostAsJsonAsync("/api/jobs", names, WireJson.Options)).EnsureSuccessStatusCode();
            }
        })));
        fill.Stop();

        var results = new List<(string, double, double)>();
        foreach (var (label, query) in Queries)
        {
            for (var i = 0; i < 5; i++) await http.GetStringAsync($"/api/jobs?limit=50&{query}"); // warm up
            var latencies = new List<double>();
            for (var i = 0; i < 30; i++) latencies.Add(await Measure.MillisecondsAsync(() => http.GetStringAsync($"/api/jobs?limit=50&{query}")));
            results.Add((label, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99)));
        }
        TestStore.Delete(database);
        return new SearchRow(store, jobs, fill.Elapsed.TotalSeconds, results);
    }

    /// <summary>A spread of four hex digits per job that never contains "zq" (nor any letter past f).</summary>
    private static int Hash(int n) => (int)((uint)(n * 2654435761L) >> 16) & 0xffff;

    public static void Print(IReadOnlyList<SearchRow> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"Search — GET /api/jobs?q=…&limit=50, first page, p50 / p99 ms; {rows[0].Jobs:N0} jobs");
        Console.WriteLine();
        Console.WriteLine($"| query | {string.Join(" | ", rows.Select(row => row.Store))} |");
        Console.WriteLine($"| --- |{string.Concat(rows.Select(_ => " --- |"))}");
        for (var i = 0; i < Queries.Length; i++)
            Console.WriteLine($"| {Queries[i].Label} | {string.Join(" | ", rows.Select(row => $"{row.Queries[i].P50:0.0} / {row.Queries[i].P99:0.0}"))} |");
        Console.WriteLine($"| (filling the queue, 1,000 per request) | {string.Join(" | ", rows.Select(row => $"{row.Jobs / row.FillSeconds:N0} jobs/s"))} |");
    }
}
