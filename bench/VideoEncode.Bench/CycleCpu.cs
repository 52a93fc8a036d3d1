using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One store's host CPU per claim+finish cycle, one figure per run on a fresh database.</summary>
public sealed record CycleCpuRow(string Store, IReadOnlyList<double> MicrosecondsPerCycle, IReadOnlyList<double> CyclesPerSecond)
{
    public double Median => MicrosecondsPerCycle.Order().ElementAt(MicrosecondsPerCycle.Count / 2);
}

/// <summary>
/// What one claim+finish cycle costs the host in CPU time: the host runs as its own process and
/// QueueLoad's 16 workers claim and finish until the queue is empty; the host's user + system CPU
/// seconds (/proc/pid/stat) over the measured cycles only — not the enqueue, not the warm-up round —
/// divided by the cycles. CPU time rather than a rate, because the load generator and other processes
/// share the cores: a busy machine slows the rate, far less the CPU each cycle takes.
/// </summary>
public static class CycleCpu
{
    /// <summary>One run on a fresh database: host CPU µs per cycle, and cycles/s for reference.</summary>
    public static async Task<(double Microseconds, double PerSecond)> MeasureAsync(Func<string> newDatabase, int jobs)
    {
        var database = newDatabase();
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        try
        {
            using var host = await HostProcess.StartAsync(address, database);
            using var http = QueueLoad.NewClient(address);
            double before = 0, after = 0;
            var cycles = await new QueueLoad([http]).MeasureCyclesAsync(jobs,
                started: () => before = CpuSeconds(host.Id), stopped: () => after = CpuSeconds(host.Id));
            if (cycles.DoubleClaims != 0 || cycles.LostJobs != 0)
                throw new InvalidOperationException($"{cycles.DoubleClaims} double claims, {cycles.LostJobs} lost jobs");
            return ((after - before) / jobs * 1e6, cycles.PerSecond);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    /// <summary>
    /// The framework's floor, for scale: the same 16 lean connections each send two GET /health
    /// (no key, no body, no store) per "cycle", <paramref name="cycles"/> of them after a warm-up round of a
    /// tenth as many; host CPU µs per pair. What Kestrel, routing and a JSON answer cost before a handler does anything.
    /// </summary>
    public static async Task<double> MeasureFloorAsync(Func<string> newDatabase, int cycles)
    {
        var database = newDatabase();
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        try
        {
            using var host = await HostProcess.StartAsync(address, database);
            await PairsAsync(address, cycles / 10);
            var before = CpuSeconds(host.Id);
            await PairsAsync(address, cycles);
            return (CpuSeconds(host.Id) - before) / cycles * 1e6;
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    private static Task PairsAsync(Uri address, int pairs)
    {
        var left = pairs;
        return Task.WhenAll(Enumerable.Range(0, QueueLoad.Workers).Select(_ => Task.Run(async () =>
        {
            await using var connection = await LeanHttpConnection.OpenAsync(address, QueueFactory.ApiKey);
            while (Interlocked.Decrement(ref left) >= 0)
                for (var request = 0; request < 2; request++)
                    if ((await connection.SendAsync("GET", "/health")).Status != 200)
                        throw new InvalidOperationException("GET /health did not answer 200");
        })));
    }

    public static void Print(IEnumerable<CycleCpuRow> rows, int jobs)
    {
        Console.WriteLine();
        Console.WriteLine($"Host CPU per claim+finish cycle — {QueueLoad.Workers} workers, {jobs:N0} jobs, a fresh database per run");
        Console.WriteLine();
        Console.WriteLine("| store | host CPU per cycle, median | runs, µs | cycles/s |");
        Console.WriteLine("| --- | --- | --- | --- |");
        foreach (var row in rows)
            Console.WriteLine($"| {row.Store} | {row.Median:N0} µs | {string.Join(", ", row.MicrosecondsPerCycle.Select(us => us.ToString("N0")))} | " +
                              $"{string.Join(", ", row.CyclesPerSecond.Select(rate => rate.ToString("N0")))} |");
    }

    /// <summary>utime + stime of a process, in seconds: fields 14 and 15 of /proc/pid/stat, counted after the command's closing parenthesis.</summary>
    private static double CpuSeconds(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / (double)ClockTicksPerSecond;
    }

    /// <summary>USER_HZ, the unit of /proc's CPU times: 100 on every Linux build in use.</summary>
    private const int ClockTicksPerSecond = 100;
}
