using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// The quality gate as a job meets it: the host on a real loopback port, the worker as a real process,
/// real ffmpeg (wrapped to damage its encodes on cue), clips made here. A result the gate rejects fails
/// the job for good, with what was measured, and nothing is put in place; skip_if_larger keeps the original.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QualityGateEndToEndTests : IClassFixture<EndToEndHost>, IAsyncLifetime
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(120);

    private readonly string root = Directory.CreateTempSubdirectory("videoencode-gate-e2e-").FullName;
    private readonly EndToEndHost shared;
    private readonly Uri server;
    private readonly HttpClient client;
    private readonly string input, output, scratch;

    public QualityGateEndToEndTests(EndToEndHost shared)
    {
        this.shared = shared;
        (server, client) = (shared.Server, shared.Client);
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
        scratch = Path.Combine(root, "scratch");
    }

    public Task InitializeAsync() => shared.EmptyQueueAsync();

    public Task DisposeAsync()
    {
        Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AnSsimThresholdAboveWhatTheEncodeReachesFailsWithTheValueAndAReachableOneStoresTheScores()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "rough.mkv"), 2);
        await TestMedia.MakeClipAsync(Path.Combine(input, "fine.mkv"), 2);
        var jobs = await client.EnqueueAsync(
            new { file_name = "rough.mkv", crf = "51", preset = "ultrafast", min_ssim = 0.999 },
            new { file_name = "fine.mkv", crf = "20", preset = "ultrafast", min_ssim = 0.8, min_psnr = 25 });

        await RunWorkerAsync();

        var rough = await client.GetJobAsync(jobs[0].Id);
        Assert.Equal((JobStatus.Failed, 1), (rough.Status, rough.Attempts));
        Assert.Matches(@"^The encoded file failed its check: SSIM 0\.\d+ is below the job's min_ssim 0\.999$", rough.Error);
        var fine = await client.GetJobAsync(jobs[1].Id);
        Assert.Equal((JobStatus.Finished, JobResults.Encoded), (fine.Status, fine.Result));
        Assert.InRange(fine.Ssim!.Value, 0.8, 1);
        Assert.InRange(fine.Psnr!.Value, 25, FinishReport.MaxPsnr);
        Assert.Equal(["fine.mp4"], OutputFiles());
    }

    [Fact]
    public async Task ATruncatedOutputFailsTheGateWithItsReasonAndIsNotPutInPlace()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 3);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast")))[0];

        await RunWorkerAsync("--ffmpeg", FakeTools.TruncatingFfmpeg(root));

        var failed = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.Failed, 1), (failed.Status, failed.Attempts));
        Assert.Matches(@"^The encoded file failed its check: decoding it gave \d+ errors? \(ffmpeg exit code 0\), first: ", failed.Error);
        Assert.Empty(OutputFiles());
        Assert.Equal(["clip.mkv"], Directory.GetFiles(input).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AnOutputThatLostTheInputsAudioFailsTheGate()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "talk.mkv"), 2);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("talk.mkv", "30", "ultrafast")))[0];

        await RunWorkerAsync("--ffmpeg", FakeTools.MutingFfmpeg(root));

        var failed = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("The encoded file failed its check: the input has 1 audio stream, the result 0 audio streams", failed.Error);
        Assert.Empty(OutputFiles());
    }

    [Fact]
    public async Task SkipIfLargerOnAnAlreadySmallInputKeepsTheOriginalWithNoFilePlacedAndNoUpload()
    {
        // Already squeezed at crf 51: an encode at crf 0 of it is far larger.
        var made = Path.Combine(root, "made.mkv");
        await TestMedia.MakeClipAsync(made, 2);
        var small = Path.Combine(input, "small.mp4");
        await TestMedia.GenerateAsync(["-v", "error", "-i", made, "-c:v", "libx264", "-crf", "51", "-c:a", "aac", "-b:a", "16k", small]);
        var jobs = await client.EnqueueAsync(
            new { file_name = "small.mp4", crf = "0", preset = "ultrafast", skip_if_larger = true },
            new { upload_id = await client.UploadFileAsync(small), crf = "0", preset = "ultrafast", skip_if_larger = true });

        await RunWorkerAsync("--scratch", scratch);

        foreach (var id in jobs.Select(job => job.Id))
        {
            var kept = await client.GetJobAsync(id);
            Assert.Equal((JobStatus.Finished, JobResults.KeptOriginal, (string?)null), (kept.Status, kept.Result, kept.OutputUploadId));
            Assert.Equal(new FileInfo(small).Length, kept.InputBytes);
            Assert.True(kept.OutputBytes >= kept.InputBytes, $"the discarded encode had {kept.OutputBytes} bytes");
        }
        Assert.Empty(OutputFiles());
        Assert.True(!Directory.Exists(scratch) || Directory.GetFiles(scratch, "*", SearchOption.AllDirectories).Length == 0);
    }

    private async Task RunWorkerAsync(params string[] extra)
    {
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, ["--once", "--concurrency", "2", .. extra]));
        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
    }

    private string[] OutputFiles() => Directory.Exists(output)
        ? [.. Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order()!]
        : [];
}
