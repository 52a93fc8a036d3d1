using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>One measured transfer: its rate, that rate against curl fetching from a plain static file server, and the host's memory.</summary>
public sealed record TransferRow(string What, double MegabytesPerSecond, double RatioToCurl, double IdleRssMegabytes, double PeakRssMegabytes);

/// <summary>
/// The media store's transfers at full size: a file of random bytes (generated on disk, never committed) uploaded
/// through the host's tus endpoint in one PATCH and downloaded again through GET /api/jobs/{id}/input, both by
/// curl, against curl fetching the same file from `python3 -m http.server` on the same machine in the same run.
/// The host runs as its own process, so its resident memory (VmRSS, sampled every 20 ms during each transfer)
/// is its own. Rates in MB/s (10^6 bytes).
/// </summary>
public static class TransferBench
{
    /// <summary>
    /// The rows, curl's rate from the static server, and — for the upload, which must reach the disk — the rate of
    /// `dd conv=fsync` copying the same file on the same disk (MB/s).
    /// </summary>
    public static async Task<(double Baseline, double DiskWrite, IReadOnlyList<TransferRow> Rows)> MeasureAsync(long bytes)
    {
        var folder = Path.Combine(Path.GetTempPath(), "videoencode-bench-transfer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "random.bin");
        var database = TestStore.NewSqlitePath();
        Process? staticServer = null;
        HostProcess? host = null;
        try
        {
            WriteRandomFile(file, bytes);
            var staticPort = FreePort.Find();
            staticServer = StartStaticServer(folder, staticPort);
            var staticUrl = $"http://127.0.0.1:{staticPort}/random.bin";
            await WaitForAsync(staticUrl);
            await CurlAsync("%{speed_download}", "-o", "/dev/null", staticUrl);                  // warm-up: the file in the page cache
            var baseline = await CurlAsync("%{speed_download}", "-o", "/dev/null", staticUrl) / 1e6;
            var diskWrite = bytes / 1e6 / await DurableCopySecondsAsync(file, Path.Combine(folder, "copy.bin"));

            var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
            host = await HostProcess.StartAsync(address, database, ("MEDIARESERVEBYTES", "0"));
            using var http = new HttpClient { BaseAddress = address };
            http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
            http.DefaultRequestHeaders.Add(Tus.ResumableHeader, Tus.Version);
            var job = (await (await http.PostAsJsonAsync("/api/jobs", new { file_name = "random.bin", crf = "23", preset = "fast" }))
                .Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0];
            var idle = RssMegabytes(host.Id);

            var created = new HttpRequestMessage(HttpMethod.Post, Tus.UploadsPath);
            created.Headers.Add(Tus.UploadLengthHeader, bytes.ToString(CultureInfo.InvariantCulture));
            var location = (await http.SendAsync(created)).EnsureSuccessStatusCode().Headers.Location!.OriginalString;
            var (upload, uploadPeak) = await WhileSamplingAsync(host.Id, () => CurlAsync("%{speed_upload}", "-o", "/dev/null", "-X", "PATCH",
                "-T", file, "-H", "Expect:", "-H", $"X-API-Key: {QueueFactory.ApiKey}", "-H", $"{Tus.ResumableHeader}: {Tus.Version}",
                "-H", $"{Tus.UploadOffsetHeader}: 0", "-H", $"Content-Type: {Tus.OffsetOctetStream}", "--fail", new Uri(address, location).ToString()));

            // The enqueue by upload_id is not here yet: the job is pointed at the upload in the database itself.
            await using (var connection = new SqliteConnection($"Data Source={database};Default Timeout=10"))
            {
                await connection.OpenAsync();
                await using var update = connection.CreateCommand();
                update.CommandText = "UPDATE jobs SET input_upload = $upload WHERE id = $job";
                update.Parameters.AddWithValue("$upload", location.Split('/')[^1]);
                update.Parameters.AddWithValue("$job", job.Id);
                await update.ExecuteNonQueryAsync();
            }
            var idleAfter = RssMegabytes(host.Id);
            var (download, downloadPeak) = await WhileSamplingAsync(host.Id, () => CurlAsync("%{speed_download}", "-o", "/dev/null", "--fail",
                "-H", $"X-API-Key: {QueueFactory.ApiKey}", new Uri(address, $"/api/jobs/{job.Id}/input").ToString()));

            return (baseline, diskWrite,
            [
                new("upload: one tus PATCH (curl -T), flushed to disk and hashed", upload / 1e6, upload / 1e6 / baseline, idle, uploadPeak),
                new("download: GET /api/jobs/{id}/input (curl)", download / 1e6, download / 1e6 / baseline, idleAfter, downloadPeak),
            ]);
        }
        finally
        {
            host?.Dispose();
            if (staticServer is { HasExited: false }) staticServer.Kill();
            staticServer?.Dispose();
            TestStore.Delete(database);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>How long dd takes to copy <paramref name="from"/> to <paramref name="to"/> and flush it to disk (then the copy goes).</summary>
    private static async Task<double> DurableCopySecondsAsync(string from, string to)
    {
        var watch = Stopwatch.StartNew();
        using (var dd = Process.Start("dd", ["if=" + from, "of=" + to, "bs=1M", "conv=fsync", "status=none"]))
            await dd.WaitForExitAsync();
        var seconds = watch.Elapsed.TotalSeconds;
        File.Delete(to);
        return seconds;
    }

    private static void WriteRandomFile(string path, long bytes)
    {
        var buffer = new byte[1024 * 1024];
        using var file = File.Create(path);
        for (long written = 0; written < bytes; written += buffer.Length)
        {
            RandomNumberGenerator.Fill(buffer);
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, bytes - written));
        }
    }

    private static Process StartStaticServer(string folder, int port)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-m", "http.server", "--bind", "127.0.0.1", "--directory", folder, port.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private static async Task WaitForAsync(string url)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            await Task.Delay(100);
        }
    }

    /// <summary>Runs curl with -s -w <paramref name="writeOut"/> and answers the number it prints (bytes per second).</summary>
    private static async Task<double> CurlAsync(string writeOut, params string[] arguments)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-s", "-S", "-w", writeOut }.Concat(arguments)) start.ArgumentList.Add(argument);
        using var curl = Process.Start(start)!;
        var output = curl.StandardOutput.ReadToEndAsync();
        var error = curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        if (curl.ExitCode != 0) throw new InvalidOperationException($"curl {string.Join(' ', arguments)} failed ({curl.ExitCode}): {await error}");
        return double.Parse((await output).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs <paramref name="transfer"/> while sampling the host's VmRSS; answers its result and the highest sample.</summary>
    private static async Task<(double Result, double PeakRss)> WhileSamplingAsync(int processId, Func<Task<double>> transfer)
    {
        var peak = RssMegabytes(processId);
        var running = transfer();
        while (!running.IsCompleted)
        {
            peak = Math.Max(peak, RssMegabytes(processId));
            await Task.WhenAny(running, Task.Delay(20));
        }
        return (await running, Math.Max(peak, RssMegabytes(processId)));
    }

    private static double RssMegabytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }
}
