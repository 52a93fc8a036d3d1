using System.Text.Json;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One run's host CPU per job: this host and the naive reference queue, measured back to back.</summary>
public sealed record VersusRun(double HostMicroseconds, double ReferenceMicroseconds)
{
    public double Ratio => HostMicroseconds / ReferenceMicroseconds;
}

/// <summary>
/// Host CPU per job with an HttpClient client: <see cref="Workers"/> workers, each HttpClient on a handler
/// (a connection) of its own, claim and finish with the token until <see cref="Jobs"/> enqueued jobs are done,
/// parsing each answer into a JsonDocument as ordinary clients do; the same client against this host
/// (fresh SQLite, durable) and against <see cref="ReferenceQueue"/> (non-durable, no events, no metrics)
/// in the same run. The server process's user + system CPU (/proc/pid/stat) over the claims and finishes
/// only — not the enqueue, not a warm-up round of a tenth as many jobs — divided by the jobs.
/// </summary>
public static class VersusReference
{
    public const int Workers = 16;
    public const int Jobs = 20_000;

    public static async Task<VersusRun> RunAsync(int jobs = Jobs)
    {
        var hostDatabase = TestStore.NewSqlitePath();
        var referenceDatabase = TestStore.NewSqlitePath();
        try
        {
            double host, reference;
            var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
            using (var process = await HostProcess.StartAsync(address, hostDatabase))
                host = await MeasureAsync(address, process.Id, jobs);
            address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
            using (var process = await ReferenceQueue.StartAsync(address, referenceDatabase))
                try
                {
                    reference = await MeasureAsync(address, process.Id, jobs);
                }
                finally
                {
                    process.Kill();
                }
            return new VersusRun(host, reference);
        }
        finally
        {
            TestStore.Delete(hostDatabase);
            TestStore.Delete(referenceDatabase);
        }
    }

    private static async Task<double> MeasureAsync(Uri address, int processId, int jobs)
    {
        using var http = QueueLoad.NewClient(address);
        var load = new QueueLoad([http]);
        await load.EnqueueAsync(jobs / 10, "warm-up");
        await CycleAsync(address, jobs / 10);
        await load.EnqueueAsync(jobs, "versus");
        var before = FarmBench.CpuSeconds(processId);
        await CycleAsync(address, jobs);
        return (FarmBench.CpuSeconds(processId) - before) / jobs * 1e6;
    }

    /// <summary>The workers claim and finish until the queue answers 404; every job must be finished exactly once.</summary>
    private static async Task CycleAsync(Uri address, int jobs)
    {
        var finished = 0;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            await using var connection = new HttpClientConnection(address, QueueFactory.ApiKey);
            var claimBody = $$"""{"worker":"versus-{{w}}"}""";
            while (true)
            {
                var (status, body) = await connection.SendAsync("POST", "/api/jobs/claim", claimBody);
                if (status == 404) return;
                if (status != 200) throw new InvalidOperationException($"claim answered {status}: {body}");
                using var job = JsonDocument.Parse(body);
                var id = job.RootElement.GetProperty("id").GetInt64();
                var token = job.RootElement.GetProperty("claim_token").GetString();
                var (finishStatus, finishBody) = await connection.SendAsync("POST", $"/api/jobs/{id}/finish", $$"""{"claim_token":"{{token}}"}""");
                if (finishStatus != 200) throw new InvalidOperationException($"finish answered {finishStatus}: {finishBody}");
                using (JsonDocument.Parse(finishBody)) Interlocked.Increment(ref finished);
            }
        })));
        if (finished != jobs) throw new InvalidOperationException($"{finished} jobs finished of {jobs}");
    }

    public static void Print(IReadOnlyList<VersusRun> runs)
    {
        static string Spread(IEnumerable<double> figures) => string.Join(", ", figures.Select(figure => figure.ToString("N0")));
        Console.WriteLine();
        Console.WriteLine($"Host CPU per job — {Workers} HttpClient workers, {Jobs:N0} jobs enqueued then claimed and finished, this host and the reference queue back to back in each run");
        Console.WriteLine();
        Console.WriteLine("| run | this host (durable) | reference queue (naive, not durable) | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");
        for (var i = 0; i < runs.Count; i++)
            Console.WriteLine($"| {i + 1} | {runs[i].HostMicroseconds:N0} µs | {runs[i].ReferenceMicroseconds:N0} µs | {runs[i].Ratio:0.00}× |");
        Console.WriteLine($"| all | {Spread(runs.Select(run => run.HostMicroseconds))} µs | {Spread(runs.Select(run => run.ReferenceMicroseconds))} µs | " +
                          $"{runs.Min(run => run.Ratio):0.00}–{runs.Max(run => run.Ratio):0.00}× |");
    }
}
