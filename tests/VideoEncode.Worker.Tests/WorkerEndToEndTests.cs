using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
/// <summary>The host on a real loopback port, the worker as a real process, real ffmpeg, clips made here.</summary>
[RunsLong]
public sealed class WorkerEndToEndTests : IClassFixture<EndToEndHost>, IAsyncLifetime
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);
    private static readonly Dictionary<string, string> NoVariables = [];

    private readonly EndToEndHost shared;
    private readonly QueueFactory host;
    private readonly Uri server;
    private readonly HttpClient client;
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-worker-").FullName;
    private readonly string input, output;

    public WorkerEndToEndTests(EndToEndHost shared)
    {
        this.shared = shared;
        (host, server, client) = (shared.Host, shared.Server, shared.Client);
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
    }

    public Task InitializeAsync() => shared.EmptyQueueAsync();

    public Task DisposeAsync()
    {
        Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task OnceOverThreeJobsWritesThreeValidMp4sAndFinishesThreeJobs()
    {
        string[] names = ["plain.mp4", "sub folder/clip with spaces.mkv", "über/東京 – ü.mov"];
        double[] lengths = [2, 3, 1.5];
        for (var i = 0; i < names.Length; i++)
            await TestMedia.MakeClipAsync(Path.Combine(input, names[i]), lengths[i]);
        var jobs = await client.EnqueueAsync(names.Select(name => QueueCalls.NewJob(name, "30", "ultrafast")).ToArray());

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--concurrency", "2"));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        for (var i = 0; i < names.Length; i++)
        {
            var result = Path.Combine(output, Path.ChangeExtension(names[i], ".mp4"));
            var (codec, duration) = await TestMedia.ProbeAsync(result);
            Assert.Equal("h264", codec);
            Assert.Equal(lengths[i], duration, 0.5);
        }
        var stored = await client.ListAsync();
        Assert.All(stored, job => Assert.Equal(JobStatus.Finished, job.Status));
        Assert.Equal(jobs.Select(job => job.Id).Order(), stored.Select(job => job.Id).Order());
        Assert.Equal(3, Directory.GetFiles(output, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task AMissingAndACorruptInputEachEndFailedWithAReasonAndTheStderrTail()
    {
        await File.WriteAllTextAsync(Path.Combine(input, "corrupt.mp4"), "this is not a video");
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("missing.mp4"), QueueCalls.NewJob("corrupt.mp4"));

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once"));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var missing = await Get(jobs[0].Id);
        Assert.Equal(JobStatus.Failed, missing.Status);
        Assert.Contains("does not exist", missing.Error);
        Assert.Contains("No such file or directory", missing.LogTail);
        var corrupt = await Get(jobs[1].Id);
        Assert.Equal(JobStatus.Failed, corrupt.Status);
        Assert.Contains("Cannot read the input 'corrupt.mp4'", corrupt.Error);
        Assert.Contains("Invalid data found when processing input", corrupt.LogTail);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task AFileNameThatEscapesTheRootNeverReachesFfmpeg()
    {
        // A link planted inside the input folder, and a row edited by hand past the host's checks.
        var outside = Path.Combine(root, "outside");
        await TestMedia.MakeClipAsync(Path.Combine(outside, "secret.mp4"), 1);
        Directory.CreateSymbolicLink(Path.Combine(input, "link"), outside);
        var viaLink = (await client.EnqueueAsync(QueueCalls.NewJob("link/secret.mp4")))[0];
        var edited = (await client.EnqueueAsync(QueueCalls.NewJob("placeholder.mp4")))[0];
        await using (var database = new SqliteConnection($"Data Source={host.Database};Pooling=False"))
        {
            await database.OpenAsync();
            await using var update = database.CreateCommand();
            update.CommandText = "UPDATE jobs SET file_name = '../outside/secret.mp4' WHERE id = $id";
            update.Parameters.AddWithValue("$id", edited.Id);
            await update.ExecuteNonQueryAsync();
        }
        var calls = Path.Combine(root, "ffmpeg-calls.log");
        var ffmpeg = FakeTools.Recording(root, "ffmpeg", calls);
        var ffprobe = FakeTools.Recording(root, "ffprobe", calls);

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--ffmpeg", ffmpeg, "--ffprobe", ffprobe));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        foreach (var (id, reason) in new[] { (viaLink.Id, "leads outside the input folder"), (edited.Id, "must not contain '..' segments") })
        {
            var job = await Get(id);
            Assert.Equal(JobStatus.Failed, job.Status);
            Assert.Contains(reason, job.Error);
            Assert.Null(job.LogTail);
        }
        var recorded = await File.ReadAllTextAsync(calls);
        Assert.Contains("-encoders", recorded);                     // the wrappers were really used
        Assert.DoesNotContain("secret", recorded);
    }

    [Fact]
    public async Task TwoInputsWithTheSameOutputNameNeverOverwriteEachOthersResult()
    {
        // The first job has finished when the second is enqueued, so the host hands the second the
        // same output name (names are kept apart among pending and running jobs only): the worker
        // must refuse to replace the first result.
        await TestMedia.MakeClipAsync(Path.Combine(input, "a.mkv"), 1);
        await TestMedia.MakeClipAsync(Path.Combine(input, "a.avi"), 2);
        var first = (await client.EnqueueAsync(QueueCalls.NewJob("a.mkv", "30", "ultrafast")))[0];
        using (var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once")))
            Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        Assert.Equal(JobStatus.Finished, (await Get(first.Id)).Status);
        var result = Path.Combine(output, "a.mp4");
        var (bytes, written) = (await File.ReadAllBytesAsync(result), File.GetLastWriteTimeUtc(result));

        var second = (await client.EnqueueAsync(QueueCalls.NewJob("a.avi", "30", "ultrafast")))[0];
        using (var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once")))
            Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);

        var refused = await Get(second.Id);
        Assert.Equal(JobStatus.Failed, refused.Status);   // not retryable: trying again would not help
        Assert.StartsWith("output exists: a.mp4", refused.Error);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(result));
        Assert.Equal(written, File.GetLastWriteTimeUtc(result));
        Assert.Equal(["a.mp4"], Directory.GetFiles(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task InputsQueuedTogetherThatWouldShareAnOutputBothFinishIntoTheirOwnFiles()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "a.mkv"), 1);
        await TestMedia.MakeClipAsync(Path.Combine(input, "a.avi"), 2);
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("a.mkv", "30", "ultrafast"), QueueCalls.NewJob("a.avi", "30", "ultrafast"));
        Assert.Equal(["a.mp4", "a (2).mp4"], jobs.Select(job => job.OutputName));

        using (var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--concurrency", "2")))
            Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);

        Assert.All(await client.ListAsync(), job => Assert.Equal(JobStatus.Finished, job.Status));
        Assert.Equal(1, (await TestMedia.ProbeAsync(Path.Combine(output, "a.mp4"))).Duration, 0.5);
        Assert.Equal(2, (await TestMedia.ProbeAsync(Path.Combine(output, "a (2).mp4"))).Duration, 0.5);
    }

    [Fact]
    public async Task AJobThatSaysOverwriteReplacesTheFileAtItsOutputName()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        Directory.CreateDirectory(Path.Combine(output, "done"));
        await File.WriteAllTextAsync(Path.Combine(output, "done", "clip.mp4"), "an old result");
        var job = (await client.EnqueueAsync(new { file_name = "clip.mkv", crf = "30", preset = "ultrafast", output_name = "done/clip.mp4", overwrite = true }))[0];

        using (var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once")))
            Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);

        Assert.Equal(JobStatus.Finished, (await Get(job.Id)).Status);
        Assert.Equal("h264", (await TestMedia.ProbeAsync(Path.Combine(output, "done", "clip.mp4"))).VideoCodec);
    }

    [Fact]
    public async Task AnOutputThatAppearsDuringTheEncodeIsLeftAloneAndTheJobFails()
    {
        // A paced encode of five seconds: the file below lands while it runs.
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 5, audio: false);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast")))[0];
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--ffmpeg", FakeTools.RealTimeFfmpeg(root)));
        await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output, "*.partial").Any(), () => worker.Output);

        await File.WriteAllTextAsync(Path.Combine(output, "clip.mp4"), "someone else's file");

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var refused = await Get(job.Id);
        Assert.Equal(JobStatus.Failed, refused.Status);
        Assert.StartsWith("output exists: clip.mp4", refused.Error);
        Assert.Equal("someone else's file", await File.ReadAllTextAsync(Path.Combine(output, "clip.mp4")));
        Assert.Equal(["clip.mp4"], Directory.GetFiles(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task APlaylistDressedAsAVideoIsRefusedBeforeFfmpegOrFfprobeOpensIt()
    {
        // A real clip outside the input folder, and a "video" inside it that is an HLS playlist naming that clip.
        var secret = Path.Combine(root, "outside", "secret.ts");
        await TestMedia.MakeClipAsync(secret, 1);
        await File.WriteAllTextAsync(Path.Combine(input, "evil.mp4"),
            $"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n");
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("evil.mp4", "30", "ultrafast")))[0];
        var calls = Path.Combine(root, "ffmpeg-calls.log");

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once",
            "--ffmpeg", FakeTools.Recording(root, "ffmpeg", calls), "--ffprobe", FakeTools.Recording(root, "ffprobe", calls)));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var refused = await Get(job.Id);
        Assert.Equal(JobStatus.Failed, refused.Status);
        Assert.Contains("HLS playlist", refused.Error);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Any());
        var recorded = await File.ReadAllTextAsync(calls);
        Assert.Contains("-encoders", recorded);   // the wrappers were really used
        Assert.DoesNotContain("evil", recorded);
    }

    [Theory]
    [InlineData("ffmpeg", "ffmpeg made no progress for 2 s; stopped")]
    [InlineData("ffprobe", "ffprobe did not answer within 2 s; stopped")]
    public async Task AHungToolIsStoppedAndTheJobGoesBackToTheQueueWithTheReason(string tool, string reason)
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast")))[0];
        var pidFile = Path.Combine(root, tool + ".pid");
        var hanging = tool == "ffmpeg" ? FakeTools.HangingFfmpeg(root, pidFile) : FakeTools.HangingFfprobe(root, pidFile);

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--stall-timeout", "2", "--" + tool, hanging));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var retried = await Get(job.Id);
        Assert.Equal(JobStatus.Pending, retried.Status);   // a retryable failure: back in the queue after a backoff
        Assert.Equal(reason, retried.Error);
        Assert.False(FakeTools.Running(FakeTools.ReadPid(pidFile)!.Value));
        Assert.Empty(Directory.GetFiles(output, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AKilledEncodeLeavesNothingThatLooksLikeAResultAndTheJobCanBeDoneAgain()
    {
        // 12 s at "slower": long enough to be killed mid-encode (the kill follows the first file ffmpeg
        // writes), short enough that doing it again fits ExitTimeout on a loaded machine (40 s did not: 0.3x).
        var job = await EnqueueLongJobAsync(seconds: 12);
        using (var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output)))
        {
            await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), () => worker.Output);
            worker.KillHard();
            await worker.WaitForExitAsync(ExitTimeout);
        }
        Assert.Empty(Directory.GetFiles(output, "*.mp4", SearchOption.AllDirectories));
        Assert.All(Directory.GetFiles(output), file => Assert.StartsWith(".", Path.GetFileName(file)));
        await Eventually.TrueAsync(() => !Eventually.FfmpegWritingInto(output), () => "ffmpeg still running");   // the kernel ended ffmpeg with its parent

        await client.PostAsync($"/api/jobs/{job.Id}/reset", null);
        using var second = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once"));
        Assert.True(0 == await second.WaitForExitAsync(ExitTimeout), second.Output);
        Assert.Equal(JobStatus.Finished, (await Get(job.Id)).Status);
        Assert.Equal(["long.mp4"], Directory.GetFiles(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task OneStopSignalLetsTheRunningEncodeFinish()
    {
        var job = await EnqueueLongJobAsync(seconds: 6);
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output));
        await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), () => worker.Output);

        worker.Signal("TERM");

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        Assert.Equal(JobStatus.Finished, (await Get(job.Id)).Status);
        Assert.True(File.Exists(Path.Combine(output, "long.mp4")));
    }

    [Fact]
    public async Task TwoStopSignalsEndTheEncodeRemoveItsFileAndPutTheJobBack()
    {
        var job = await EnqueueLongJobAsync();
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output));
        await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), () => worker.Output);

        worker.Signal("TERM");
        await Eventually.TrueAsync(() => worker.Output.Contains("Stopping:"), () => worker.Output);
        worker.Signal("TERM");

        Assert.Equal(130, await worker.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var reset = await Get(job.Id);
        Assert.Equal(JobStatus.Pending, reset.Status);
        Assert.Null(reset.Started);
        Assert.Empty(Directory.GetFiles(output, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task StartUpProblemsAreOneLineAndANonZeroExit()
    {
        var withKey = new Dictionary<string, string> { ["VIDEOENCODE_APIKEY"] = QueueFactory.ApiKey };
        var cases = new (Dictionary<string, string> Environment, string[] Args, string Message)[]
        {
            (withKey, WorkerProcess.Arguments(server, input, output, "--ffmpeg", "/nonexistent/ffmpeg"), "/nonexistent/ffmpeg"),
            (withKey, WorkerProcess.Arguments(new Uri("http://127.0.0.1:9"), input, output), "cannot reach the host"),
            (new() { ["VIDEOENCODE_APIKEY"] = "wrong" }, WorkerProcess.Arguments(server, input, output), "rejected the API key"),
            (NoVariables, ["--input", input], "API key"),
            (NoVariables, [.. WorkerProcess.Arguments(server, input, output), "--api-key-file", Path.Combine(root, "no such file")], "API key file"),
        };
        foreach (var (environment, args, message) in cases)
        {
            using var worker = WorkerProcess.Start(environment, args);
            Assert.NotEqual(0, await worker.WaitForExitAsync(ExitTimeout));
            var lines = worker.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(message, Assert.Single(lines));
        }
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task TheKeyCanComeFromAFileAndThenIsNotOnTheCommandLine()
    {
        var keyFile = Path.Combine(root, "api-key");
        await File.WriteAllTextAsync(keyFile, QueueFactory.ApiKey + "\n");

        using var worker = WorkerProcess.Start(NoVariables, [.. WorkerProcess.Arguments(server, input, output, "--once"), "--api-key-file", keyFile]);

        var commandLine = await File.ReadAllTextAsync($"/proc/{worker.Id}/cmdline");
        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);   // the host accepted the key
        Assert.Contains("--api-key-file", commandLine);
        Assert.DoesNotContain(QueueFactory.ApiKey, commandLine);
        Assert.DoesNotContain("warning", worker.Output);
    }

    [Fact]
    public async Task AKeyOnTheCommandLineStillWorksButTheWorkerWarnsThatOthersCanSeeIt()
    {
        using var worker = WorkerProcess.Start(NoVariables, [.. WorkerProcess.Arguments(server, input, output, "--once"), "--api-key", QueueFactory.ApiKey]);

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        Assert.Single(worker.Output.Split('\n'), line => line.Contains("warning: --api-key is visible to every user"));
    }

    private async Task<Job> EnqueueLongJobAsync(double seconds = 40)
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "long.mkv"), seconds, size: "640x360", rate: 25, audio: false);
        return (await client.EnqueueAsync(QueueCalls.NewJob("long.mkv", "20", "slower")))[0];
    }

    private async Task<Job> Get(long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
