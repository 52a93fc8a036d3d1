using System.Diagnostics;
using System.Net.Http.Json;
using VideoEncode.Bench;
using VideoEncode.Contracts;
using VideoEncode.Testing;

// Starts the host (this Release build) on a temporary SQLite database and a free loopback port, drives
// it over HTTP and prints the main table. Then the stores table: the same claim+finish and bulk enqueue
// measures on a fresh database each for SQLite with one host and PostgreSQL with one and two hosts (two
// host processes sharing one database, the load dealt out to both), on the server named in
// VIDEOENCODE_TEST_POSTGRES or a throwaway one started here. Every figure comes from this run.
// Last, the transfers table: a 1 GB upload and download through the media store against curl and a static
// file server (TransferBench); `--transfer` runs that table alone.
if (args is ["--reference-queue", var referenceUrl, var referenceDatabase])
{
    // The bench's own naive queue, started as a process of its own by --versus-reference.
    await ReferenceQueue.RunAsync(referenceUrl, referenceDatabase);
    return 0;
}
var quick = args.Contains("--quick");                 // a smoke run with small numbers
var transferBytes = quick ? 64L * 1000 * 1000 : 1000L * 1000 * 1000;
if (args.Contains("--transfer"))
{
    await PrintTransfersAsync();
    return 0;
}
var cycleJobs = quick ? 5_000 : 50_000;
var deepJobs = quick ? 100_000 : 1_000_000;
// The stores table repeats the main table's cycle count (a shorter run reads lower: its warm-up is shorter
// too) but enqueues a fifth as many, which is ample for a rate and keeps the run within minutes.
var storeBulkJobs = deepJobs / 5;
if (args.Contains("--farm"))                          // the farm table alone: --farm [--workers 1000,5000] [--streams 500] [--client lean|http|both]
    return await FarmAsync();
if (args.Contains("--search"))                        // the search table alone
    return await SearchAsync();
if (args.Contains("--bulk"))                          // the stores table's bulk enqueue alone, on SQLite
    return await BulkAsync();
if (args.Contains("--versus-reference"))             // host CPU per job against the naive reference queue, HttpClient workers; --runs N (3)
    return await VersusReferenceAsync();
if (args.Contains("--cycle-cpu"))                     // host CPU per claim+finish cycle alone; --runs N (3), --sqlite to skip PostgreSQL
    return await CycleCpuAsync();
const int Workers = QueueLoad.Workers;

var database = TestStore.NewSqlitePath();
var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
var rows = new List<(string What, string Result, string Target, bool? Met)>();
var host = await HostProcess.StartAsync(address, database);
using var http = QueueLoad.NewClient(address);
var load = new QueueLoad([http]);
Console.WriteLine($"Host pid {host.Id} on {address}, database {database}");

try
{
    // 1 + 2. claim+finish cycles with 16 concurrent workers, durable acknowledgements (the default),
    // after a warm-up round that is not counted (the JIT settles on its optimised code first).
    var (rate, doubles, lost) = await load.MeasureCyclesAsync(cycleJobs);
    rows.Add(($"claim+finish cycles/s, {Workers} workers, {cycleJobs:N0} jobs (durable: synchronous=FULL)", $"{rate:N0}/s", "≥ 5,000/s", rate >= 5000));
    rows.Add(("double claims / lost jobs", $"{doubles} / {lost}", "0 / 0", doubles == 0 && lost == 0));

    // 3. claim latency at 1,000 pending.
    await load.EnqueueAsync(1_000, "shallow");
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
    var enqueueRate = await load.MeasureBulkAsync(deepJobs, "deep", parallel: 2);
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

// The stores table, like for like: every row runs the same steps on a fresh database, so SQLite is measured
// again here rather than taken from the main table (whose bulk enqueue is five times longer and comes later).
var stores = new List<StoreRow>();
string postgresVersion;
using (PostgresServer.Start())
{
    postgresVersion = PostgresServer.Version();
    stores.Add(await StoreComparison.MeasureAsync("SQLite", TestStore.NewSqlitePath(), 1, cycleJobs, storeBulkJobs));
    stores.Add(await StoreComparison.MeasureAsync(postgresVersion, TestStore.NewPostgresDatabase(), 1, cycleJobs, storeBulkJobs));
    stores.Add(await StoreComparison.MeasureAsync(postgresVersion, TestStore.NewPostgresDatabase(), 2, cycleJobs, storeBulkJobs));
}

Console.WriteLine();
Console.WriteLine($"VideoEncode benchmark — {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, .NET {Environment.Version}{(quick ? ", QUICK RUN" : "")}");
Console.WriteLine();
Console.WriteLine("| measure | result | target | met |");
Console.WriteLine("| --- | --- | --- | --- |");
foreach (var (what, result, target, met) in rows)
    Console.WriteLine($"| {what} | {result} | {target} | {(met is null ? "" : met.Value ? "yes" : "**no**")} |");
Console.WriteLine();
Console.WriteLine($"Stores — a fresh database per row; {postgresVersion} on this machine; load dealt out to the hosts in turn");
Console.WriteLine();
Console.WriteLine($"| store | hosts | claim+finish cycles/s, {Workers} workers, {cycleJobs:N0} jobs | double claims / lost jobs | bulk enqueue, 1,000 jobs per request, 2 at a time ({storeBulkJobs:N0} jobs) |");
Console.WriteLine("| --- | --- | --- | --- | --- |");
foreach (var (store, hosts, (perSecond, doubleClaims, lostJobs), bulkPerSecond) in stores)
    Console.WriteLine($"| {store} | {hosts} | {perSecond:N0}/s | {doubleClaims} / {lostJobs} | {bulkPerSecond:N0} jobs/s |");
await SearchAsync();
await PrintTransfersAsync();
return 0;

// The farm table: simulated workers at each size asked (1,000, 5,000 and 10,000 by default).
async Task<int> FarmAsync()
{
    var sizes = ArgumentAfter("--workers")?.Split(',').Select(int.Parse).ToArray() ?? (quick ? [500] : [1_000, 5_000, 10_000]);
    var streams = ArgumentAfter("--streams") is { } count ? int.Parse(count) : 0;
    // --client lean (the default), http (HttpClient, one handler per worker) or both, side by side at each size.
    BenchClient[] clients = ArgumentAfter("--client") switch
    {
        null or "lean" => [BenchClient.Lean],
        "http" => [BenchClient.HttpClient],
        "both" => [BenchClient.Lean, BenchClient.HttpClient],
        var other => throw new ArgumentException($"--client {other}: lean, http or both"),
    };
    var rows = new List<FarmRow>();
    foreach (var size in sizes)
        foreach (var client in clients)
        {
            rows.Add(await FarmBench.RunAsync(size, streams, client));
            // Host CPU per heartbeat too: a client that falls behind sends fewer beats, and the host's % of a core falls with them.
            var row = rows[^1];
            Console.WriteLine($"{client}, {size:N0} workers: {row.HeartbeatsPerSecond:N0} heartbeats/s, p50 {row.P50:0.0} ms, p99 {row.P99:0} ms, " +
                              $"host {row.BusyCpuPercent:0} % of a core ({row.BusyCpuPercent / 100 * 1e6 / row.HeartbeatsPerSecond:N0} µs per heartbeat, claims and finishes included), " +
                              $"peak RSS {row.PeakRssMegabytes:N0} MB");
        }
    FarmBench.Print(rows);
    return 0;
}

string? ArgumentAfter(string name) => args.SkipWhile(arg => arg != name).Skip(1).FirstOrDefault();

// The search table: file-name search on SQLite (trigram FTS5) and PostgreSQL (pg_trgm), each on a fresh queue of deepJobs jobs.
async Task<int> SearchAsync()
{
    var searched = new List<SearchRow> { await SearchBench.MeasureAsync("SQLite", TestStore.NewSqlitePath(), deepJobs) };
    using (PostgresServer.Start())
        searched.Add(await SearchBench.MeasureAsync(PostgresServer.Version(), TestStore.NewPostgresDatabase(), deepJobs));
    SearchBench.Print(searched);
    return 0;
}

async Task PrintTransfersAsync()
{
    var (baseline, diskWrite, transfers) = await TransferBench.MeasureAsync(transferBytes);
    Console.WriteLine();
    Console.WriteLine($"Transfers — {transferBytes / 1e6:N0} MB of random bytes; curl fetching it from python3 -m http.server: {baseline:N0} MB/s " +
                      $"(targets: ≥ 0.8× that, host RSS within 64 MB of idle); dd conv=fsync copying it on the same disk: {diskWrite:N0} MB/s" +
                      $"{(quick ? ", QUICK RUN" : "")}");
    Console.WriteLine();
    Console.WriteLine("| transfer | MB/s | × curl from a static server | host RSS idle → peak | met |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    foreach (var (what, rate, ratio, idle, peak) in transfers)
        Console.WriteLine($"| {what} | {rate:N0} | {ratio:0.00}× | {idle:N0} → {peak:N0} MB | {(ratio >= 0.8 && peak - idle <= 64 ? "yes" : "**no**")} |");
}

// The bulk enqueue alone on a fresh SQLite queue: what the search index costs an enqueue, compared run against run.
async Task<int> BulkAsync()
{
    var bulkAddress = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
    using var bulkHost = await HostProcess.StartAsync(bulkAddress, TestStore.NewSqlitePath());
    using var bulkHttp = QueueLoad.NewClient(bulkAddress);
    var perSecond = await new QueueLoad([bulkHttp]).MeasureBulkAsync(storeBulkJobs, "bulk", parallel: 2);
    Console.WriteLine($"SQLite bulk enqueue, 1,000 jobs per request, 2 at a time ({storeBulkJobs:N0} jobs): {perSecond:N0} jobs/s");
    return 0;
}

// Host CPU per claim+finish cycle, several runs per store, each on a fresh database: SQLite, then PostgreSQL with one host.
async Task<int> CycleCpuAsync()
{
    var runs = args.SkipWhile(arg => arg != "--runs").Skip(1).Select(int.Parse).FirstOrDefault(3);
    async Task<CycleCpuRow> RunsAsync(string store, Func<string> newDatabase)
    {
        var figures = new List<(double Microseconds, double PerSecond)>();
        for (var run = 0; run < runs; run++)
        {
            figures.Add(await CycleCpu.MeasureAsync(newDatabase, cycleJobs));
            Console.WriteLine($"{store}, run {run + 1}: {figures[^1].Microseconds:N0} µs per cycle, {figures[^1].PerSecond:N0} cycles/s");
        }
        return new CycleCpuRow(store, figures.Select(f => f.Microseconds).ToList(), figures.Select(f => f.PerSecond).ToList());
    }
    var rows = new List<CycleCpuRow> { await RunsAsync("SQLite", TestStore.NewSqlitePath) };
    var floor = await CycleCpu.MeasureFloorAsync(TestStore.NewSqlitePath, cycleJobs);
    if (!args.Contains("--sqlite"))
        using (PostgresServer.Start())
            rows.Add(await RunsAsync(PostgresServer.Version() + ", 1 host", TestStore.NewPostgresDatabase));
    CycleCpu.Print(rows, cycleJobs);
    Console.WriteLine($"For scale, the same 16 connections sending two GET /health per cycle instead: {floor:N0} µs of host CPU per pair.");
    return 0;
}

async Task<int> VersusReferenceAsync()
{
    var runs = new List<VersusRun>();
    for (var run = 0; run < (ArgumentAfter("--runs") is { } count ? int.Parse(count) : 3); run++)
    {
        runs.Add(await VersusReference.RunAsync(quick ? VersusReference.Jobs / 10 : VersusReference.Jobs));
        Console.WriteLine($"run {run + 1}: this host {runs[^1].HostMicroseconds:N0} µs per job, reference {runs[^1].ReferenceMicroseconds:N0} µs, {runs[^1].Ratio:0.00}×");
    }
    VersusReference.Print(runs);
    return 0;
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
