using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One farm run's figures (<see cref="FarmBench"/>).</summary>
public sealed record FarmRow(BenchClient Client, int Workers, double HeartbeatsPerSecond, double P50, double P99, long Claims, long Finishes, long Errors, long LostClaims,
    double BusyCpuPercent, double IdleCpuPercent, double PeakRssMegabytes, StreamFigures? Streams);

/// <summary>
/// What the event-stream readers saw: events per second per fast reader, slow readers dropped with a reset,
/// host RSS every 5 s while the streams settled and then over the measured window.
/// </summary>
public sealed record StreamFigures(int Readers, double EventsPerSecondEach, long FastReadersReset, int SlowReaders, int SlowReadersDropped,
    IReadOnlyList<double> SettlingRssMegabytes, IReadOnlyList<double> RssMegabytes);

/// <summary>
/// A farm of simulated workers against the host as its own process (Release, fresh SQLite): each
/// worker has its own keep-alive connection, waits in a long-poll claim (wait 25 s), heartbeats every
/// second with progress while it "encodes" for <see cref="EncodeTime"/>, then finishes with its token
/// and claims again. The queue holds work for the whole busy phase; then the pending jobs are cancelled
/// and every worker ends up waiting in a long poll: the idle phase, whose host CPU should be nil.
/// Figures: heartbeats/s and their latency (client-side, busy window only), claims, finishes, errors (any
/// answer but 2xx and a claim's 404), lost claims (a finish not answered 200, or a job left running),
/// host CPU (utime+stime from /proc) as % of one core per phase, and host peak RSS (VmHWM).
/// With streams, that many readers follow GET /api/events through the busy window, as fast as they
/// can, plus two that never read.
/// </summary>
public static class FarmBench
{
    public static readonly TimeSpan EncodeTime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Ramp = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Busy = TimeSpan.FromSeconds(30);
    // The event streams are watched for a minute: long enough to see memory grow if it does.
    private static readonly TimeSpan BusyWithStreams = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(20);
    /// <summary>
    /// Streams open this long before their window is measured: the host's replay window (the last 10,000 changes
    /// of status) fills at workers / 5 a second, ~50 s with 1,000 workers, so growth seen after it is the streams' own.
    /// </summary>
    private static readonly TimeSpan StreamsSettle = TimeSpan.FromSeconds(60);
    private const int SlowReaders = 2;

    /// <param name="client">The lean client claims with "wait": 25; HttpClient's workers with "wait": 5, as the simulator that issue 27 measured with.</param>
    public static async Task<FarmRow> RunAsync(int workers, int streams, BenchClient client = BenchClient.Lean)
    {
        var database = TestStore.NewSqlitePath();
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        using var host = await HostProcess.StartAsync(address, database);
        try
        {
            // Enough jobs for every worker to stay busy through the ramp, warm-up and busy window.
            var busy = streams > 0 ? BusyWithStreams : Busy;
            var settle = streams > 0 ? StreamsSettle : TimeSpan.Zero;
            var cycles = (int)Math.Ceiling((Ramp + WarmUp + settle + busy) / EncodeTime) + 1;
            using (var http = QueueLoad.NewClient(address))
                await new QueueLoad([http]).EnqueueAsync(workers * cycles, "farm", parallel: 2);

            var farm = new Farm(address, client);
            using var stop = new CancellationTokenSource();
            var running = new List<Task>();
            for (var i = 0; i < workers; i++)
            {
                var name = $"farm-{i}";
                var startAfter = Ramp * i / workers;
                running.Add(Task.Run(() => farm.WorkerAsync(name, startAfter, stop.Token)));
            }
            await Task.Delay(Ramp + WarmUp);

            var readers = streams > 0 ? await StreamReaders.OpenAsync(address, streams, SlowReaders) : null;
            var settlingRss = new List<double>();
            if (readers is not null)
            {
                using var settling = new CancellationTokenSource(settle);
                await SampleRssAsync(host.Id, settlingRss, settling.Token);
                readers.StartCounting();
            }
            var rss = new List<double>();
            using var sampling = new CancellationTokenSource();
            var sampler = readers is null ? Task.CompletedTask : SampleRssAsync(host.Id, rss, sampling.Token);
            farm.Measuring = true;
            var cpuBefore = CpuSeconds(host.Id);
            var watch = Stopwatch.StartNew();
            await Task.Delay(busy);
            var busyCpu = (CpuSeconds(host.Id) - cpuBefore) / watch.Elapsed.TotalSeconds * 100;
            farm.Measuring = false;
            var beats = farm.Beats;
            sampling.Cancel();
            await sampler;
            var streamFigures = readers is null ? null : readers.Close(busy, settlingRss, rss);

            // No more work: the running jobs finish, and every worker waits in a long poll.
            using (var http = QueueLoad.NewClient(address))
                while (true)
                {
                    var answer = await http.PostAsync("/api/jobs/bulk", new StringContent("""{"action":"cancel","status":"pending"}""", Encoding.UTF8, "application/json"));
                    using var result = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
                    if (!result.RootElement.TryGetProperty("more_matched", out var more) || !more.GetBoolean()) break;
                }
            await Task.Delay(EncodeTime + TimeSpan.FromSeconds(3));
            cpuBefore = CpuSeconds(host.Id);
            watch.Restart();
            await Task.Delay(Idle);
            var idleCpu = (CpuSeconds(host.Id) - cpuBefore) / watch.Elapsed.TotalSeconds * 100;

            stop.Cancel();
            await Task.WhenAll(running);
            long stillRunning;
            using (var http = QueueLoad.NewClient(address))
            {
                using var stats = JsonDocument.Parse(await http.GetStringAsync("/api/stats"));
                stillRunning = stats.RootElement.GetProperty("counts").GetProperty("in_progress").GetInt64();
            }
            var latencies = farm.Latencies;
            if (farm.Errors > 0) Console.WriteLine($"{workers:N0} workers ({client}), errors: {farm.ErrorKinds}");
            return new FarmRow(client, workers, beats / busy.TotalSeconds, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99),
                farm.Claims, farm.Finishes, farm.Errors, farm.LostFinishes + stillRunning, busyCpu, idleCpu, Measure.PeakRssMegabytes(host.Id), streamFigures);
        }
        finally
        {
            host.Dispose();
            TestStore.Delete(database);
        }
    }

    /// <summary>The workers' shared tallies.</summary>
    private sealed class Farm(Uri address, BenchClient client)
    {
        private readonly object gate = new();
        private readonly List<double> latencies = [];
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> errorKinds = new();

        /// <summary>Each kind of error seen ("heartbeat 409", "claim 503", …) and how often.</summary>
        public string ErrorKinds => string.Join(", ", errorKinds.Select(kind => $"{kind.Key}: {kind.Value}"));

        private void Error(string kind)
        {
            Interlocked.Increment(ref errors);
            errorKinds.AddOrUpdate(kind, 1, (_, count) => count + 1);
        }
        private long claims, finishes, errors, lostFinishes, beats;
        public volatile bool Measuring;

        public long Claims => Interlocked.Read(ref claims);
        public long Finishes => Interlocked.Read(ref finishes);
        public long Errors => Interlocked.Read(ref errors);
        public long LostFinishes => Interlocked.Read(ref lostFinishes);
        public long Beats => Interlocked.Read(ref beats);
        public List<double> Latencies { get { lock (gate) return [.. latencies]; } }

        public async Task WorkerAsync(string name, TimeSpan startAfter, CancellationToken stop)
        {
            try
            {
                await RunWorkerAsync(name, startAfter, stop);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                // The host closed the connection or refused it: an error, and one worker fewer.
                Error(e.GetType().Name);
            }
        }

        private async Task RunWorkerAsync(string name, TimeSpan startAfter, CancellationToken stop)
        {
            await Task.Delay(startAfter, CancellationToken.None);
            // A small buffer: ten thousand of these share the machine with the host.
            await using var connection = await BenchConnection.OpenAsync(client, address, HostProcessKey, leanBufferBytes: 8 * 1024);
            var claimBody = $$"""{"worker":"{{name}}","wait":{{(client == BenchClient.Lean ? 25 : 5)}}}""";
            var random = new Random(name.GetHashCode());
            while (!stop.IsCancellationRequested)
            {
                var (status, body) = await connection.SendAsync("POST", "/api/jobs/claim", claimBody);
                if (status == 404) continue;
                if (status != 200) { Error($"claim {status}"); await Task.Delay(1000, CancellationToken.None); continue; }
                Interlocked.Increment(ref claims);
                var (id, token) = IdAndToken(body);
                var started = Stopwatch.StartNew();
                // The first beat comes a second after the claim, at a jittered phase, as a real worker's does.
                var next = TimeSpan.FromSeconds(1 + random.NextDouble() * 0.01);
                while (started.Elapsed < EncodeTime)
                {
                    var wait = next - started.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, CancellationToken.None);
                    next += TimeSpan.FromSeconds(1);
                    var progress = Math.Min(99, started.Elapsed / EncodeTime * 100);
                    var beat = $$"""{"claim_token":"{{token}}","progress":{{progress:0.0}},"speed":1.5,"eta_seconds":{{Math.Max(0, (int)(EncodeTime - started.Elapsed).TotalSeconds)}},"phase":"encoding"}""";
                    var sent = Stopwatch.GetTimestamp();
                    var (beatStatus, _) = await connection.SendAsync("POST", $"/api/jobs/{id}/heartbeat", beat);
                    var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    if (beatStatus != 200) Error($"heartbeat {beatStatus}");
                    if (Measuring)
                    {
                        Interlocked.Increment(ref beats);
                        lock (gate) latencies.Add(elapsed);
                    }
                }
                var (finishStatus, _) = await connection.SendAsync("POST", $"/api/jobs/{id}/finish", $$"""{"claim_token":"{{token}}"}""");
                if (finishStatus == 200) Interlocked.Increment(ref finishes);
                else { Error($"finish {finishStatus}"); Interlocked.Increment(ref lostFinishes); }
            }
        }

        private static (long Id, string Token) IdAndToken(string body)
        {
            using var job = JsonDocument.Parse(body);
            return (job.RootElement.GetProperty("id").GetInt64(), job.RootElement.GetProperty("claim_token").GetString()!);
        }
    }

    private static string HostProcessKey => QueueFactory.ApiKey;

    /// <summary>Readers of GET /api/events over raw sockets: fast ones count events, slow ones never read until the end.</summary>
    private sealed class StreamReaders
    {
        private readonly List<Socket> sockets = [];
        private readonly List<Task> reading = [];
        private readonly List<Socket> slow = [];
        private long events, resets;
        private readonly CancellationTokenSource stop = new();

        /// <summary>Counts events from now on: the measured window starts.</summary>
        public void StartCounting() => Interlocked.Exchange(ref events, 0);

        public static async Task<StreamReaders> OpenAsync(Uri address, int fast, int slowCount)
        {
            var readers = new StreamReaders();
            for (var i = 0; i < fast + slowCount; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                // A slow reader's socket buffers are small, so it falls behind soon, as a stalled browser tab's would.
                if (i >= fast) socket.ReceiveBufferSize = 4096;
                await socket.ConnectAsync(address.Host, address.Port);
                await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /api/events HTTP/1.1\r\nHost: {address.Host}\r\nX-API-Key: {HostProcessKey}\r\n\r\n"));
                readers.sockets.Add(socket);
                if (i < fast) readers.reading.Add(readers.CountAsync(socket));
                else readers.slow.Add(socket);
            }
            return readers;
        }

        private async Task CountAsync(Socket socket)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var read = await socket.ReceiveAsync(buffer, stop.Token);
                    if (read == 0) return;
                    Interlocked.Add(ref events, buffer.AsSpan(0, read).Count("event: "u8));
                    // A reset ends the stream; a reader that gets one has fallen too far behind (a browser would reconnect).
                    if (buffer.AsSpan(0, read).IndexOf("event: reset"u8) >= 0) Interlocked.Increment(ref resets);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }

        /// <summary>Stops reading; a slow reader counts as dropped when what the host sent it, read now, holds a reset event or the connection ended.</summary>
        public StreamFigures Close(TimeSpan window, IReadOnlyList<double> settlingRss, IReadOnlyList<double> rss)
        {
            stop.Cancel();
            var reset = 0;
            foreach (var socket in slow)
            {
                // Read what the host kept sending (megabytes in the socket buffers) until a reset, the end of the
                // stream, or 2 s of silence. A reader stalled longer than the host waits for it (30 s) finds the
                // connection closed: dropped too, just without the reset it could not take.
                var tail = new List<byte>();
                var buffer = new byte[64 * 1024];
                socket.ReceiveTimeout = 2000;
                var dropped = false;
                try
                {
                    int read;
                    while ((read = socket.Receive(buffer)) > 0)
                    {
                        tail.AddRange(buffer.AsSpan(0, read));
                        if (tail.Count > 64 * 1024) tail.RemoveRange(0, tail.Count - 64 * 1024);
                        if (tail.ToArray().AsSpan().IndexOf("event: reset"u8) >= 0) break;
                    }
                    dropped = true;
                }
                catch (SocketException e)
                {
                    // A timeout: the host still holds the stream open; a reset connection: it cut the reader off.
                    dropped = e.SocketErrorCode != SocketError.TimedOut;
                }
                if (dropped) reset++;
            }
            foreach (var socket in sockets) socket.Dispose();
            var fast = reading.Count;
            return new StreamFigures(fast, Interlocked.Read(ref events) / (double)fast / window.TotalSeconds, Interlocked.Read(ref resets), slow.Count, reset, settlingRss, rss);
        }
    }

    /// <summary>The CPU time the process has used, user and system, from /proc/pid/stat.</summary>
    public static double CpuSeconds(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: utime is the 14th field, stime the 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // clock ticks: USER_HZ is 100 on Linux
    }

    private static async Task SampleRssAsync(int processId, List<double> samples, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                samples.Add(CurrentRssMegabytes(processId));
                await Task.Delay(TimeSpan.FromSeconds(5), stop);
            }
        }
        catch (OperationCanceledException)
        {
            samples.Add(CurrentRssMegabytes(processId));
        }
    }

    private static double CurrentRssMegabytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    public static void Print(IReadOnlyList<FarmRow> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"Farm — simulated workers on their own connections: long-poll claims, a heartbeat a second with progress, finish after {EncodeTime.TotalSeconds:0} s; " +
                          $"busy window {Busy.TotalSeconds:0} s after a {WarmUp.TotalSeconds:0} s warm-up, then {Idle.TotalSeconds:0} s idle with every worker in a long poll");
        Console.WriteLine();
        Console.WriteLine("| client | simulated workers | heartbeats/s | heartbeat p50 / p99 | claims | errors / lost claims | host CPU busy / idle | host peak RSS |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows)
            Console.WriteLine($"| {(row.Client == BenchClient.Lean ? "lean" : "HttpClient")} | {row.Workers:N0} | {row.HeartbeatsPerSecond:N0} | {row.P50:0.0} / {row.P99:0} ms | {row.Claims:N0} | {row.Errors} / {row.LostClaims} | " +
                              $"{row.BusyCpuPercent:0} % / {row.IdleCpuPercent:0.0} % of a core | {row.PeakRssMegabytes:N0} MB |");
        foreach (var row in rows.Where(row => row.Streams is not null))
        {
            var streams = row.Streams!;
            Console.WriteLine();
            Console.WriteLine($"Event streams with {row.Workers:N0} workers: {streams.Readers} readers got {streams.EventsPerSecondEach:N0} events/s each, " +
                              $"{streams.FastReadersReset} of them dropped with a reset; " +
                              $"{streams.SlowReadersDropped} of {streams.SlowReaders} readers that stopped reading were dropped (a reset, or the connection closed once they stalled past 30 s); " +
                              $"host RSS every 5 s while the streams settled ({StreamsSettle.TotalSeconds:0} s, from the moment the readers connected): " +
                              $"{string.Join(", ", streams.SettlingRssMegabytes.Select(mb => mb.ToString("N0")))} MB; " +
                              $"then over the {BusyWithStreams.TotalSeconds:0} s window: {string.Join(", ", streams.RssMegabytes.Select(mb => mb.ToString("N0")))} MB");
        }
    }
}
