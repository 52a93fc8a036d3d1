using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Transfers;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Traces: one job attempt of an uploaded clip with a quality gate, run by the worker's own loop against a
/// real host on a loopback port, both in this process under one tracer with the in-memory exporter. Every
/// span of the attempt — the worker's claim, heartbeats, download, ffmpeg run, gate, upload and finish, and
/// the host's spans of those requests, continued from their traceparent — is in the attempt's one trace.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class JobTracingTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-trace-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task OneJobAttemptIsOneTraceFromClaimToFinishAcrossWorkerAndHost()
    {
        var spans = new List<Activity>();
        using var tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(Tracing.WorkerSource, Tracing.WorkerRequestSource, Tracing.HostRequestSource)
            .AddInMemoryExporter(spans)
            .Build();
        using var host = new QueueFactory(settings: new Dictionary<string, string?> { ["Media"] = Path.Combine(root, "media") });
        var server = host.StartOnLoopback();
        var client = host.CreateApiClient();
        var clip = Path.Combine(root, "clip.mkv");
        await TestMedia.MakeClipAsync(clip, 2);
        var job = (await client.EnqueueAsync(new { upload_id = await client.UploadFileAsync(clip), crf = "30", preset = "ultrafast", min_ssim = 0.5 }))[0];

        // The download paced to last about 1.5 s, so at least one heartbeat (one a second) is sent during the attempt.
        var settings = new WorkerSettings
        {
            Server = server, ApiKey = QueueFactory.ApiKey, Name = "traced", Scratch = Path.Combine(root, "scratch"), Once = true,
            Encoders = [EncoderCatalog.Libx264, ClaimRequest.CopyCapability], TransferLimit = new FileInfo(clip).Length / 1.5,
        };
        await using var console = new ConsoleOutput(TextWriter.Null, live: false);
        var retries = new Retries(console, TimeProvider.System);
        using var http = QueueClient.CreateHttpClient(settings);
        using var transfers = QueueClient.CreateHttpClient(settings, Timeout.InfiniteTimeSpan);
        using var scratch = ScratchSpace.Open(settings.Scratch, console.Info);
        var queue = new QueueClient(http, console, retries);
        var runner = new JobRunner(queue, new Ffmpeg("ffmpeg", "ffprobe", settings.StallTimeout), null, null, scratch,
            new InputDownload(transfers, retries), new ResultUpload(transfers, retries), settings, console);
        await new WorkerLoop(settings, queue, runner, scratch, console).RunAsync(CancellationToken.None, CancellationToken.None);
        Assert.Equal(JobStatus.Finished, (await client.GetJobAsync(job.Id)).Status);
        tracer.ForceFlush();

        List<Activity> all;
        lock (spans) all = spans.ToList();
        var attempt = Assert.Single(all, span => span.Source.Name == Tracing.WorkerSource && span.DisplayName == "job attempt");
        Assert.Equal(job.Id, attempt.GetTagItem(JobTracing.JobIdAttribute));
        Assert.Equal(default, attempt.ParentSpanId);
        var trace = all.Where(span => span.TraceId == attempt.TraceId).ToList();
        var worker = trace.Where(span => span.Source.Name == Tracing.WorkerSource).ToList();
        Assert.Equal(["claim", "download", "ffmpeg", "finish", "gate", "heartbeats", "job attempt", "upload"],
            worker.Select(span => span.DisplayName).Distinct().Order(StringComparer.Ordinal));
        Assert.All(worker.Where(span => span != attempt), span => Assert.Equal(attempt.SpanId, span.ParentSpanId));
        Assert.Contains("libx264", (string)Assert.Single(worker, span => span.DisplayName == "ffmpeg").GetTagItem(JobTracing.CommandLineAttribute)!);

        // The host's spans of the requests hang under the worker's HTTP client spans, and those under the worker span
        // that was current when each request was sent.
        var served = trace.Where(span => span.Source.Name == Tracing.HostRequestSource).ToList();
        var byId = trace.ToDictionary(span => span.SpanId);
        var sentUnder = served.Select(span =>
        {
            Assert.True(byId.TryGetValue(span.ParentSpanId, out var sent) && sent.Source.Name == Tracing.WorkerRequestSource,
                $"{span.DisplayName} {span.GetTagItem("url.path")} is not under a request the worker sent");
            Assert.True(byId.TryGetValue(sent!.ParentSpanId, out var step) && step.Source.Name == Tracing.WorkerSource);
            return step!.DisplayName;
        });
        Assert.Equal(["claim", "download", "finish", "heartbeats", "upload"], sentUnder.Distinct().Order(StringComparer.Ordinal));
    }
}
