using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Bench;
using VideoEncode.Contracts;
using VideoEncode.Testing;

// Starts the host (this Release build) on a temporary database and a free loopback port, drives it
// over HTTP and prints one table. Every figure comes from this run.
var quick = args.Contains("--quick");                 // a smoke run with small numbers
var cycleJobs = quick ? 5_000 : 50_000;
var deepJobs = quick ? 100_000 : 1_000_000;
const int Workers = 16;

var database = TestStore.NewSqlitePath();
var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
var rows = new List<(string What, string Result, string Target, bool? Met)>();
var host = await HostProcess.StartAsync(address, database);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
Console.WriteLine($"Host pid {host.Id} on {address}, database {database}");

try
{
    // 1 + 2. claim+finish cycles with 16 concurrent workers, durable acknowledgements (the default),
    // after a warm-up round that is not counted (the JIT settles on its optimised code first).
    await EnqueueAsync(cycleJobs / 10, "warm-up");
    await CycleAsync(new ConcurrentDictionary<long, int>(), new ConcurrentBag<long>());
    await EnqueueAsync(cycleJobs, "cycle");
    var claimed = new ConcurrentDictionary<long, int>();
    var finished = new ConcurrentBag<long>();
    var cycles = Stopwatch.StartNew();
    await CycleAsync(claimed, finished);
    cycles.Stop();
    var rate = finished.Count / cycles.Elapsed.TotalSeconds;
    var doubles = claimed.Count(pair => pair.Value > 1);
    var lost = cycleJobs - finished.Distinct().Count();
    rows.Add(($"claim+finish cycles/s, {Workers} workers, {cycleJobs:N0} jobs (durable: synchronous=FULL)", $"{rate:N0}/s", "≥ 5,000/s", rate >= 5000));
    rows.Add(("double claims / lost jobs", $"{doubles} / {lost}", "0 / 0", doubles == 0 && lost == 0));

    // 3. claim latency at 1,000 pending.
    await EnqueueAsync(1_000, "shallow");
    var shallow = await ClaimLatenciesAsync(500);
    await DrainAsync();

    // 6. enqueue -> claim latency for an idle worker waiting in a long poll.
    var idle = new List<double>();
    for (var i = 0; i < (quick ? 20 : 100); i++)
    {
        var waiting = http.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("idle", 10), WireJson.Options);
        await Task.Delay(20);
        var sent = Stopwatch.StartNew();
        await http.PostAsJsonAsync("/api/jobs", new[] { new { file_name = $"idle/{i}.mkv", crf = "23", preset = "fast" } }, WireJson.Options);
        var response = await waiting;
        idle.Add(sent.Elapsed.TotalMilliseconds);
        response.EnsureSuccessStatusCode();
    }
    rows.Add(("enqueue → claim, idle worker in a long poll, p50 / p99", $"{Measure.Percentile(idle, 50):0.00} / {Measure.Percentile(idle, 99):0.00} ms", "p50 ≤ 20 ms", Measure.Percentile(idle, 50) <= 20));

    // 4. bulk enqueue rate, 1,000 jobs per request, which also fills the queue for 3 and 5.
    var bulk = Stopwatch.StartNew();
    await EnqueueAsync(deepJobs, "deep", parallel: 2);
    bulk.Stop();
    var enqueueRate = deepJobs / bulk.Elapsed.TotalSeconds;
    rows.Add(($"bulk enqueue, 1,000 jobs per request ({deepJobs:N0} jobs)", $"{enqueueRate:N0} jobs/s", "≥ 50,000 jobs/s", enqueueRate >= 50_000));

    var deep = await ClaimLatenciesAsync(500);
    var ratio = Measure.Percentile(deep, 50) / Measure.Percentile(shallow, 50);
    rows.Add(("claim latency p50 / p99, 1,000 pending", $"{Measure.Percentile(shallow, 50):0.00} / {Measure.Percentile(shallow, 99):0.00} ms", "", null));
    rows.Add(($"claim latency p50 / p99, {deepJobs:N0} pending", $"{Measure.Percentile(deep, 50):0.00} / {Measure.Percentile(deep, 99):0.00} ms",
        "p50 ≤ 1.25× the p50 at 1,000", ratio <= 1.25));

    // 5. list latency with the deep queue.
    var firstPage = await LatenciesAsync(200, () => http.GetStringAsync("/api/jobs?status=pending&limit=50"));
    var deepOffset = deepJobs / 2;
    var offsetPage = await LatenciesAsync(50, () => http.GetStringAsync($"/api/jobs?status=pending&limit=50&offset={deepOffset}"));
    var middleId = (await http.GetFromJsonAsync<Job[]>($"/api/jobs?status=pending&limit=1&offset={deepOffset}", WireJson.Options))![0].Id;
    var keysetPage = await LatenciesAsync(200, () => http.GetStringAsync($"/api/jobs?status=pending&limit=50&before_id={middleId}"));
    rows.Add(($"list first page p50 (status=pending&limit=50, {deepJobs:N0} jobs)", $"{Measure.Percentile(firstPage, 50):0.00} ms", "≤ 5 ms", Measure.Percentile(firstPage, 50) <= 5));
    rows.Add(($"list at offset {deepOffset:N0} p50", $"{Measure.Percentile(offsetPage, 50):0.00} ms", "", null));
    rows.Add(($"list at the same depth by before_id p50", $"{Measure.Percentile(keysetPage, 50):0.00} ms", "not degrading with depth",
        Measure.Percentile(keysetPage, 50) <= 2 * Measure.Percentile(firstPage, 50) + 1));

    // 7. the host's peak memory.
    var rss = Measure.PeakRssMegabytes(host.Id);
    rows.Add(("host peak RSS (VmHWM)", $"{rss:N0} MB", "≤ 200 MB", rss <= 200));
}
finally
{
    host.Dispose();
    TestStore.Delete(database);
}

Console.WriteLine();
Console.WriteLine($"VideoEncode benchmark — {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, .NET {Environment.Version}{(quick ? ", QUICK RUN" : "")}");
Console.WriteLine();
Console.WriteLine("| measure | result | target | met |");
Console.WriteLine("| --- | --- | --- | --- |");
foreach (var (what, result, target, met) in rows)
    Console.WriteLine($"| {what} | {result} | {target} | {(met is null ? "" : met.Value ? "yes" : "**no**")} |");
return 0;

// Workers that claim and finish until the queue is empty, on lean connections.
Task CycleAsync(ConcurrentDictionary<long, int> claimed, ConcurrentBag<long> finished) =>
    Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
    {
        await using var connection = await LeanHttpConnection.OpenAsync(address, QueueFactory.ApiKey);
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

// The two fields a worker needs from a claim answer, read without building a document.
static (long Id, string Token) IdAndToken(string json)
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

async Task EnqueueAsync(int count, string prefix, int parallel = 1)
{
    var batches = Enumerable.Range(0, (count + 999) / 1000).ToList();
    await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (batch, _) =>
    {
        var size = Math.Min(1000, count - batch * 1000);
        var jobs = Enumerable.Range(0, size).Select(i => new { file_name = $"{prefix}/{batch}/{i}.mkv", crf = "23", preset = "fast" }).ToArray();
        var response = await http.PostAsJsonAsync("/api/jobs", jobs, WireJson.Options);
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"enqueue answered {response.StatusCode}");
    });
}

async Task<List<double>> ClaimLatenciesAsync(int samples) =>
    await LatenciesAsync(samples, async () =>
    {
        var response = await http.PostAsync("/api/jobs/claim", null);
        response.EnsureSuccessStatusCode();
    });

async Task<List<double>> LatenciesAsync(int samples, Func<Task> call)
{
    for (var i = 0; i < 20; i++) await call();       // warm up
    var latencies = new List<double>(samples);
    for (var i = 0; i < samples; i++) latencies.Add(await Measure.MillisecondsAsync(call));
    return latencies;
}

// Empties the queue quickly: cancelling is one write per job, and a cancelled job is never claimable.
async Task DrainAsync()
{
    while (true)
    {
        var pending = await http.GetFromJsonAsync<Job[]>("/api/jobs?status=pending&limit=1000", WireJson.Options);
        if (pending!.Length == 0) return;
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (job, _) =>
            await http.PostAsync($"/api/jobs/{job.Id}/cancel", null));
    }
}
