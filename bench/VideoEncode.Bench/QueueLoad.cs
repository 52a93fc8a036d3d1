using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>What a claim+finish run measured, and what it must never see.</summary>
public sealed record CycleResult(double PerSecond, int DoubleClaims, int LostJobs);

/// <summary>
/// The load the bench puts on a queue served by one host or by several sharing one database:
/// workers and enqueuers are dealt out to the hosts in turn, so each host serves its share.
/// </summary>
public sealed class QueueLoad(IReadOnlyList<HttpClient> hosts)
{
    public const int Workers = 16;

    /// <summary>A client for one host, sending the key; many requests may be in flight at once.</summary>
    public static HttpClient NewClient(Uri address)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        return http;
    }

    /// <summary>
    /// Claim+finish cycles/s with <see cref="Workers"/> workers over <paramref name="jobs"/> jobs, after an
    /// uncounted warm-up round of a tenth as many (every host's JIT settles on its optimised code first).
    /// <paramref name="started"/> and <paramref name="stopped"/> run right before and after the measured cycles.
    /// </summary>
    public async Task<CycleResult> MeasureCyclesAsync(int jobs, Action? started = null, Action? stopped = null)
    {
        await EnqueueAsync(jobs / 10, "warm-up");
        await CycleAsync(new ConcurrentDictionary<long, int>(), new ConcurrentBag<long>());
        await EnqueueAsync(jobs, "cycle");
        var claimed = new ConcurrentDictionary<long, int>();
        var finished = new ConcurrentBag<long>();
        started?.Invoke();
        var watch = Stopwatch.StartNew();
        await CycleAsync(claimed, finished);
        watch.Stop();
        stopped?.Invoke();
        return new(finished.Count / watch.Elapsed.TotalSeconds, claimed.Count(pair => pair.Value > 1), jobs - finished.Distinct().Count());
    }

    /// <summary>Jobs/s for enqueuing <paramref name="jobs"/> jobs, 1,000 per request, <paramref name="parallel"/> requests at a time.</summary>
    public async Task<double> MeasureBulkAsync(int jobs, string prefix, int parallel)
    {
        var watch = Stopwatch.StartNew();
        await EnqueueAsync(jobs, prefix, parallel);
        return jobs / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Workers that claim and finish until the queue is empty, each on a lean connection of its own.</summary>
    private Task CycleAsync(ConcurrentDictionary<long, int> claimed, ConcurrentBag<long> finished) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            await using var connection = await LeanHttpConnection.OpenAsync(hosts[w % hosts.Count].BaseAddress!, QueueFactory.ApiKey);
            var claimBody = $$"""{"worker":"bench-{{w}}"}""";
            while (true)
            {
                var (status, body) = await connection.SendAsync("POST", "/api/jobs/claim", claimBody);
                if (status == 404) return;
                if (status != 200) throw new InvalidOperationException($"claim answered {status}: {body}");
                var (id, token) = IdAndToken(body);
                claimed.AddOrUpdate(id, 1, (_, n) => n + 1);
                var (finishStatus, finishBody) = await connection.SendAsync("POST", $"/api/jobs/{id}/finish", $$"""{"claim_token":"{{token}}"}""");
                if (finishStatus != 200) throw new InvalidOperationException($"finish answered {finishStatus}: {finishBody}");
                finished.Add(id);
            }
        })));

    /// <summary>The two fields a worker needs from a claim answer, read without building a document.</summary>
    private static (long Id, string Token) IdAndToken(string json)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        long id = 0;
        string? token = null;
        while (reader.Read())
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                var name = reader.GetString();
                reader.Read();
                if (name == "id") id = reader.GetInt64();
                else if (name == "claim_token") token = reader.GetString();
            }
        return (id, token ?? throw new InvalidOperationException("a claim answer without claim_token"));
    }

    /// <summary>Enqueues in requests of 1,000 jobs; enqueuer e sends its requests to host e (round-robin).</summary>
    public Task EnqueueAsync(int count, string prefix, int parallel = 1)
    {
        var batches = (count + 999) / 1000;
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, parallel).Select(e => Task.Run(async () =>
        {
            var http = hosts[e % hosts.Count];
            for (var batch = Interlocked.Increment(ref next); batch < batches; batch = Interlocked.Increment(ref next))
            {
                var size = Math.Min(1000, count - batch * 1000);
                var jobs = Enumerable.Range(0, size).Select(i => new { file_name = $"{prefix}/{batch}/{i}.mkv", crf = "23", preset = "fast" }).ToArray();
                var response = await http.PostAsJsonAsync("/api/jobs", jobs, WireJson.Options);
                if (response.StatusCode != HttpStatusCode.Created)
                    throw new InvalidOperationException($"enqueue answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        })));
    }
}
