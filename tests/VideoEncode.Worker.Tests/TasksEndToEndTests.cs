using System.Formats.Tar;
using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Jobs made of tasks, run by real worker processes against the host on a loopback port: several outputs of one
/// input, an HLS ladder with thumbnails in a shared folder, and a DASH ladder from an upload, read back by ffprobe.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[RunsLong]
public sealed class TasksEndToEndTests : IClassFixture<EndToEndHost>, IAsyncLifetime
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(120);
    private readonly EndToEndHost shared;
    private readonly HttpClient client;
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-tasks-").FullName;
    private readonly string input, output;

    public TasksEndToEndTests(EndToEndHost shared)
    {
        this.shared = shared;
        client = shared.Client;
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
    }

    public Task InitializeAsync() => shared.EmptyQueueAsync();

    public Task DisposeAsync()
    {
        Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<Job> EnqueueAsync(object body)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", body, WireJson.Options);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0];
    }

    private async Task RunWorkerAsync(params string[] arguments)
    {
        using var worker = WorkerProcess.Start(arguments);
        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
    }

    private async Task<(int Width, int Height, string Codec)> ProbeVideoAsync(string path)
    {
        var (exit, stdout, stderr) = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,codec_name",
            "-of", "csv=p=0", path]);
        Assert.True(exit == 0, stderr);
        var fields = stdout.Trim().Split(',');
        return (int.Parse(fields[1]), int.Parse(fields[2]), fields[0]);
    }

    [Fact]
    public async Task OneInputBecomesAnH264Mp4AndAVp9WebmEachWithItsOwnSettingsAndName()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "talk.mkv"), 2, size: "426x240", rate: 25);
        var job = await EnqueueAsync(new
        {
            file_name = "talk.mkv",
            outputs = new object[]
            {
                new { crf = 30, preset = "ultrafast", max_height = 240, output_name = "web/talk-240.mp4" },
                new { video_codec = "vp9", crf = 40, preset = "8", container = "webm", audio = "opus", max_height = 144 },
            },
        });
        Assert.True(job.HasTasks);

        await RunWorkerAsync(WorkerProcess.Arguments(shared.Server, input, output, "--once"));

        var done = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Finished, done.Status);
        Assert.Equal((256, 144, "vp9"), await ProbeVideoAsync(Path.Combine(output, "talk.webm")));
        Assert.Equal((426, 240, "h264"), await ProbeVideoAsync(Path.Combine(output, "web", "talk-240.mp4")));
        Assert.Equal([("web/talk-240.mp4", "h264", 240), ("talk.webm", "vp9", 144)],
            done.Outputs!.Select(result => (result.Name, result.Codec!, result.Height!.Value)));
        var tasks = await client.GetFromJsonAsync<TaskLine[]>($"/api/jobs/{job.Id}/tasks", WireJson.Options);
        Assert.All(tasks!, task => Assert.Equal((JobStatus.Finished, TaskKinds.Encode, 100.0), (task.Status, task.Kind, task.Progress!.Value)));
    }

    [Fact]
    public async Task AnHlsLadderWithThumbnailsLandsInItsFolderAndTheHostServesTheStoryboard()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "shows", "ep1.mkv"), 3, size: "426x240", rate: 25);
        var job = await EnqueueAsync(new
        {
            file_name = "shows/ep1.mkv", crf = 30, preset = "ultrafast",
            package = new { format = "hls", ladder = new[] { 1080, 240, 144 }, segment_seconds = 1 },
            thumbnails = new { every_seconds = 1, width = 80 },
        });

        await RunWorkerAsync(WorkerProcess.Arguments(shared.Server, input, output, "--once"));

        Assert.Equal(JobStatus.Finished, (await client.GetJobAsync(job.Id)).Status);
        var folder = Path.Combine(output, "shows", "ep1");
        var master = await File.ReadAllTextAsync(Path.Combine(folder, "master.m3u8"));
        var variants = master.Split('\n').Where(line => line.StartsWith("#EXT-X-STREAM-INF", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, variants.Count);   // 1080 is above the input and dropped
        Assert.All(variants, line => Assert.True(line.Contains("BANDWIDTH=") && line.Contains("RESOLUTION=") && line.Contains("CODECS="), line));
        var (_, duration) = await TestMedia.ProbeAsync(Path.Combine(folder, "master.m3u8"));
        Assert.Equal(3, duration, 0.5);
        foreach (var file in ThumbnailsSpec.Files) Assert.True(File.Exists(Path.Combine(folder, file)), file);
        var storyboard = await client.GetStringAsync($"/api/jobs/{job.Id}/thumbnails/storyboard.vtt");
        Assert.StartsWith("WEBVTT", storyboard);
        Assert.Contains("sprite.jpg#xywh=", storyboard);
        using var sprite = await client.GetAsync($"/api/jobs/{job.Id}/thumbnails/sprite.jpg");
        var served = await sprite.Content.ReadAsByteArrayAsync();
        var placed = await File.ReadAllBytesAsync(Path.Combine(folder, "sprite.jpg"));
        Assert.True(placed.SequenceEqual(served), $"served {served.Length} bytes, placed {placed.Length}");
        Assert.Equal("image/jpeg", sprite.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ADashLadderFromAnUploadIsATarOfTheFolderThatFfprobeReads()
    {
        var clip = Path.Combine(root, "upload.mkv");
        await TestMedia.MakeClipAsync(clip, 2, size: "426x240", rate: 25);
        var job = await EnqueueAsync(new
        {
            upload_id = await client.UploadFileAsync(clip), crf = 30, preset = "ultrafast",
            package = new { format = "dash", ladder = new[] { 240, 144 }, segment_seconds = 1 },
        });

        await RunWorkerAsync("--server", shared.Server.ToString(), "--scratch", Path.Combine(root, "scratch"), "--poll-interval", "0.2", "--once");

        var done = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Finished, done.Status);
        var package = Assert.Single(done.Outputs!);
        Assert.Equal((TaskKinds.Package, "upload", 240), (package.Kind, package.Name, package.Height!.Value));
        using var tar = await client.GetAsync($"/api/jobs/{package.TaskId}/output");
        Assert.Equal(HttpStatusCode.OK, tar.StatusCode);
        var unpacked = Directory.CreateDirectory(Path.Combine(root, "unpacked")).FullName;
        await TarFile.ExtractToDirectoryAsync(await tar.Content.ReadAsStreamAsync(), unpacked, overwriteFiles: false);
        var (exit, streams, stderr) = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,height", "-of", "csv=p=0",
            Path.Combine(unpacked, PackageFormats.Manifest(PackageFormats.Dash))]);
        Assert.True(exit == 0, stderr);
        Assert.Equal(["video,240", "video,144", "audio"], streams.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Trim().TrimEnd(',')).Distinct());
    }

    /// <summary>Short, so a killed worker's tasks come back soon, but not so short that a live worker's lapses on a loaded machine.</summary>
    private const int SurvivableLease = 8;

    private async Task<(long Frames, double Seconds)> CountFramesAsync(string path)
    {
        var (exit, stdout, stderr) = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=nb_read_packets:format=duration", "-of", "default=nw=1:nk=1", path]);
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(lines[0]), double.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ASplitJobIsFinishedByTwoWorkersAndOneKilledMidChunkCostsThatChunkOnly()
    {
        using var host = new QueueFactory(settings: new Dictionary<string, string?> { ["LeaseSeconds"] = $"{SurvivableLease}", ["LeaseSweepSeconds"] = "1" });
        var server = host.StartOnLoopback();
        var api = host.CreateApiClient();
        await TestMedia.MakeClipAsync(Path.Combine(input, "film.mkv"), 24, size: "320x180", rate: 25);
        var job = (await api.EnqueueAsync(new { file_name = "film.mkv", crf = 30, preset = "ultrafast", split_seconds = 10 }))[0];

        // The doomed worker encodes at the input's own pace, so it is surely in the middle of a chunk when it is killed.
        using (var doomed = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "doomed", "--concurrency", "2",
                   "--ffmpeg", FakeTools.RealTimeFfmpeg(root))))
        {
            await Eventually.TrueAsync(async () => (await api.GetFromJsonAsync<TaskLine[]>($"/api/jobs/{job.Id}/tasks", WireJson.Options))!
                .Any(task => task is { Kind: TaskKinds.Chunk, Status: JobStatus.InProgress, Worker: "doomed", Progress: > 0 }), () => doomed.Output);
            doomed.KillHard();
        }
        using var survivor = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "survivor"));
        await Eventually.TrueAsync(async () => (await api.GetJobAsync(job.Id)).Status is JobStatus.Finished or JobStatus.Failed, () => survivor.Output);
        survivor.Signal("TERM");
        Assert.Equal(0, await survivor.WaitForExitAsync(ExitTimeout));

        var done = await api.GetJobAsync(job.Id);
        Assert.True(done.Status == JobStatus.Finished, done.Error + survivor.Output);
        var tasks = (await api.GetFromJsonAsync<TaskLine[]>($"/api/jobs/{job.Id}/tasks", WireJson.Options))!;
        Assert.Equal(3, tasks.Count(task => task.Kind == TaskKinds.Chunk));
        // The killed worker cost what it held: those tasks ran twice, the others once.
        var again = tasks.Where(task => task.Attempts == 2).ToList();
        Assert.Contains(again, task => task.Kind == TaskKinds.Chunk);
        Assert.All(again, task => Assert.True(task.Kind is TaskKinds.Chunk or TaskKinds.Audio, task.Kind));
        Assert.All(tasks.Except(again), task => Assert.Equal(1, task.Attempts));
        var (frames, seconds) = await CountFramesAsync(Path.Combine(output, "film.mp4"));
        var (inputFrames, inputSeconds) = await CountFramesAsync(Path.Combine(input, "film.mkv"));
        Assert.Equal(inputFrames, frames);
        Assert.Equal(inputSeconds, seconds, 1.0 / 25 + 0.03);
        Assert.False(Directory.Exists(Path.Combine(output, TaskPart.Folder, $"job-{job.Id}")));   // the parts are gone once joined
    }

    [Fact]
    public async Task ASplitJobFromAnUploadIsJoinedFromPartsTheHostHolds()
    {
        var clip = Path.Combine(root, "upload.mkv");
        await TestMedia.MakeClipAsync(clip, 21, size: "160x120", rate: 15);
        var job = await EnqueueAsync(new { upload_id = await client.UploadFileAsync(clip), crf = 30, preset = "ultrafast", split_seconds = 10, min_ssim = 0.8 });

        await RunWorkerAsync("--server", shared.Server.ToString(), "--scratch", Path.Combine(root, "scratch"), "--poll-interval", "0.2", "--once");

        var done = await client.GetJobAsync(job.Id);
        Assert.True(done.Status == JobStatus.Finished, $"{done.Status} {done.Error} {await client.GetStringAsync($"/api/jobs/{job.Id}/tasks")}");
        var joined = Assert.Single(done.Outputs!);
        Assert.Equal(TaskKinds.Join, joined.Kind);
        Assert.True(joined.Ssim >= 0.8);
        using var result = await client.GetAsync($"/api/jobs/{joined.TaskId}/output");
        var path = Path.Combine(root, "joined.mp4");
        await using (var file = File.Create(path)) await result.Content.CopyToAsync(file);
        Assert.Equal((await CountFramesAsync(clip)).Frames, (await CountFramesAsync(path)).Frames);
    }
}
