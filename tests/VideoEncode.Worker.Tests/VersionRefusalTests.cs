using System.Net;
using System.Net.Sockets;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// A host that cannot serve this worker's protocol answers its claim 426: the worker, a real process, prints
/// the host's message and exits 2 instead of claiming again and again. It says who it is on every request.
/// </summary>
public sealed class VersionRefusalTests
{
    [Fact]
    public async Task AWorkerRefusedForItsVersionPrintsWhyAndExits2()
    {
        const string why = "This worker (9.0.0, protocol 9) is newer than the host (1.0.0, protocol 1), which cannot serve it: upgrade the host to 9.0.0.";
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var headers = new List<string>();
        var claims = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // A stand-in for an older host: any request but a claim is answered 200 [], a claim 426.
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var connection = await listener.AcceptTcpClientAsync(stop.Token);
                await using var stream = connection.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                var requestLine = await reader.ReadLineAsync(stop.Token) ?? "";
                var length = 0;
                for (var line = await reader.ReadLineAsync(stop.Token); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync(stop.Token))
                {
                    if (line.StartsWith(Versions.WorkerHeader + ":", StringComparison.OrdinalIgnoreCase)) lock (headers) headers.Add(line[(Versions.WorkerHeader.Length + 1)..].Trim());
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                }
                if (length > 0) await reader.ReadBlockAsync(new char[length], stop.Token);
                var claim = requestLine.Contains("/api/jobs/claim");
                if (claim) Interlocked.Increment(ref claims);
                var (status, body) = claim ? ("426 Upgrade Required", $$"""{"error": "{{why}}"}""") : ("200 OK", "[]");
                var answer = Encoding.UTF8.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}");
                await stream.WriteAsync(answer, stop.Token);
            }
        });

        var scratch = Directory.CreateTempSubdirectory("videoencode-refused-");
        using var worker = WorkerProcess.Start(["--server", $"http://127.0.0.1:{port}", "--name", "box-1", "--capabilities", "libx264", "--poll-interval", "0.2",
            "--scratch", scratch.FullName]);
        var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        scratch.Delete(recursive: true);

        Assert.True(exit == 2, $"exit {exit}; output:\n{worker.Output}");
        Assert.Contains(why, worker.Output);
        Assert.Equal(1, claims);
        lock (headers) Assert.All(headers, header => Assert.Equal(Versions.WorkerHeaderValue("box-1"), header));
        Assert.NotEmpty(headers);
    }
}
