using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Jobs with encode settings other than today's, from enqueue to result: the host on a loopback port, the
/// worker as a real process, real ffmpeg. The worker runs what the job's settings say and the job keeps
/// the command line that ran, whether it finished or failed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EncodeSettingsEndToEndTests : IClassFixture<EndToEndHost>, IAsyncLifetime
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    private readonly EndToEndHost shared;
    private readonly Uri server;
    private readonly HttpClient client;
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-settings-").FullName;
    private readonly string input, output;

    public EncodeSettingsEndToEndTests(EndToEndHost shared)
    {
        this.shared = shared;
        (server, client) = (shared.Server, shared.Client);
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
    }

    public Task InitializeAsync() => shared.EmptyQueueAsync();

    public Task DisposeAsync()
    {
        Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<double> EncodeSecondsAsync() =>
        (await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/keys/current")).GetProperty("usage").GetProperty("encode_seconds").GetDouble();

    [Fact]
    public async Task ATenBitHevcJobInMatroskaIsWrittenAsItsSettingsSayAndKeepsItsCommandLine()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "my film.mov"), 2, size: "320x240");
        var encodedBefore = await EncodeSecondsAsync();
        var job = (await client.EnqueueAsync(new
        {
            file_name = "my film.mov", video_codec = "hevc", crf = 30, preset = "ultrafast", bit_depth = 10, max_height = 180,
            audio = "opus", audio_bitrate = "64k", container = "mkv",
        }))[0];
        Assert.Equal("my film.mkv", job.OutputName);

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once"));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        Assert.Contains("libx265 crf 30, preset ultrafast, 10-bit, at most 180 lines, audio opus 64k, mkv", worker.Output);
        var finished = await Get(job.Id);
        Assert.Equal((JobStatus.Finished, HdrKinds.None), (finished.Status, finished.Hdr));
        // The finish reported the input's duration, which the key's usage counts (docs/quotas.md).
        Assert.Equal(2.0, Math.Round(await EncodeSecondsAsync() - encodedBefore));
        var result = Path.Combine(output, "my film.mkv");
        var (codec, duration) = await TestMedia.ProbeAsync(result);
        Assert.Equal(("hevc", 2.0), (codec, Math.Round(duration)));
        Assert.Equal("180,yuv420p10le,opus", await VideoHeightFormatAndAudioAsync(result));
        Assert.StartsWith("ffmpeg ", finished.CommandLine);
        Assert.Contains($"-i 'file:{Path.Combine(input, "my film.mov")}'", finished.CommandLine);
        Assert.Contains("-c:v libx265 -crf 30 -preset ultrafast -pix_fmt yuv420p10le", finished.CommandLine);
        Assert.Contains("-c:a libopus -b:a 64k", finished.CommandLine);
        Assert.Contains("-f matroska", finished.CommandLine);
    }

    [Fact]
    public async Task AnHdrInputAnEightBitH264JobCannotHoldFailsBeforeFfmpegAndTheJobSaysHdr10()
    {
        await TestMedia.MakeHdr10ClipAsync(Path.Combine(input, "hdr.mkv"));
        var job = (await client.EnqueueAsync(new { file_name = "hdr.mkv", crf = 30, preset = "ultrafast", container = "mkv" }))[0];

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once"));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var failed = await Get(job.Id);
        Assert.Equal((JobStatus.Failed, HdrKinds.Hdr10, null), (failed.Status, failed.Hdr, failed.CommandLine));   // no command line: ffmpeg never ran
        Assert.Contains("the input is HDR (hdr10), which h264 at 8 bits cannot hold", failed.Error);
    }

    [Fact]
    public async Task AnEncodeFfmpegRefusesFailsTheJobWithTheCommandLineThatRan()
    {
        // WebM holds Opus, not the clip's AAC: asking to copy that audio into WebM passes the host (a copy
        // can only be judged against the input) and fails in ffmpeg.
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        var job = (await client.EnqueueAsync(new
        {
            file_name = "clip.mkv", video_codec = "vp9", crf = 40, preset = "8", audio = "copy", container = "webm",
        }))[0];

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once"));

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var failed = await Get(job.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.StartsWith("ffmpeg exited with code", failed.Error);
        Assert.Contains("-c:v libvpx-vp9 -crf 40 -b:v 0 -deadline good -cpu-used 8 -row-mt 1", failed.CommandLine);
        Assert.Contains("-c:a copy", failed.CommandLine);
        Assert.Contains("-f webm", failed.CommandLine);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task AnUploadedClipIsEncodedIntoWebmInTheScratchFolderAndUploadedBack()
    {
        var clip = Path.Combine(root, "source", "upload.mkv");
        await TestMedia.MakeClipAsync(clip, 1);
        var upload = await client.UploadFileAsync(clip);
        var job = (await client.EnqueueAsync(new
        {
            upload_id = upload, video_codec = "av1", crf = 45, preset = "12", audio = "opus", container = "webm",
        }))[0];

        using var worker = WorkerProcess.Start(["--server", server.ToString(), "--scratch", Path.Combine(root, "scratch"), "--once"]);

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        var finished = await Get(job.Id);
        Assert.Equal(JobStatus.Finished, finished.Status);
        Assert.EndsWith(".webm", finished.OutputName);
        Assert.Contains("-c:v libsvtav1 -crf 45 -preset 12", finished.CommandLine);
        using var response = await client.GetAsync($"/api/jobs/{job.Id}/output");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = Path.Combine(root, "result.webm");
        await using (var file = File.Create(result))
            await response.Content.CopyToAsync(file);
        Assert.Equal("av1", (await TestMedia.ProbeAsync(result)).VideoCodec);
    }

    /// <summary>The first video stream's height and pixel format (ffprobe prints them in its own order) and the first audio stream's codec, as ffprobe prints them.</summary>
    private static async Task<string> VideoHeightFormatAndAudioAsync(string path)
    {
        var video = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=pix_fmt,height", "-of", "csv=p=0", path]);
        var audio = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path]);
        return $"{video.Stdout.Trim()},{audio.Stdout.Trim()}";
    }

    private async Task<Job> Get(long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
