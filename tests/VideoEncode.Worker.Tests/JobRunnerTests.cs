using System.Net;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Transfers;

namespace VideoEncode.Worker.Tests;

/// <summary>A claimed job's run against a scripted host, for what is decided before any file is touched.</summary>
public sealed class JobRunnerTests : IAsyncDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-runner-").FullName;
    private readonly StringWriter printed = new();
    private readonly ConsoleOutput console;

    public JobRunnerTests() => console = new ConsoleOutput(printed, live: false);

    public async ValueTask DisposeAsync()
    {
        await console.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>
    /// A container this worker does not know (a newer host's, or a row edited by hand) would name the scratch
    /// file "output.{container}": the job fails for good, saying why, before anything is downloaded or written.
    /// </summary>
    [Theory]
    [InlineData("../../escaped")]
    [InlineData("mp4/../../escaped")]
    [InlineData("avi")]
    [InlineData("MP4")]
    public async Task AnUploadedJobInAContainerTheWorkerDoesNotKnowFailsForGoodBeforeAnythingIsWritten(string container)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 7, "status": "failed"}"""));
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://queue.test") };
        var retries = new Retries(console, TimeProvider.System);
        var scratchRoot = Path.Combine(root, "a", "b", "scratch");
        var settings = new WorkerSettings { Scratch = scratchRoot };
        using var scratch = ScratchSpace.Open(scratchRoot, console.Info);
        var runner = new JobRunner(new QueueClient(http, console, retries), new Ffmpeg("ffmpeg", "ffprobe", settings.StallTimeout), null, null, scratch,
            new InputDownload(http, retries), new ResultUpload(http, retries), settings, console);
        var job = new Job
        {
            Id = 7, FileName = "clip.mkv", Status = JobStatus.InProgress, ClaimToken = "t0k3n", Attempts = 1, MaxAttempts = 3,
            UploadId = "0123456789abcdef0123456789abcdef", InputBytes = 1000, LeaseExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60,
            Settings = new EncodeSettings { Container = container },
        };

        await runner.RunAsync(job, CancellationToken.None);

        Assert.DoesNotContain(handler.Requests, path => path.EndsWith("/input", StringComparison.Ordinal));
        var failure = JsonDocument.Parse(handler.Bodies[handler.Requests.ToList().IndexOf("/api/jobs/7/fail")]).RootElement;
        Assert.False(failure.GetProperty("retryable").GetBoolean());
        Assert.Contains($"container '{container}'", failure.GetProperty("error").GetString());
        Assert.Contains("mp4, mkv, webm", failure.GetProperty("error").GetString());
        // Nothing but the worker's lock and the mark on its own folder.
        Assert.DoesNotContain(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories),
            file => !file.Contains(RunFiles.LockFolder) && Path.GetFileName(file) != ScratchSpace.Marker);
    }
}
