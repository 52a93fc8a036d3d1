using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>A job's encode settings at enqueue: defaults filled in, combinations checked, the output name following the container.</summary>
public sealed class EncodeSettingsTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public EncodeSettingsTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task CrfAndPresetAloneMeanTodaysLibx264EncodeIntoMp4()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("shows/a.mkv", "20.50", "SLOW")))[0];

        Assert.Equal(EncodeSettings.Legacy("20.5", "slow"), job.Settings);
        Assert.True(job.Settings!.IsLegacy);
        Assert.Equal(("20.5", "slow", "shows/a.mp4"), (job.Crf, job.Preset, job.OutputName));
        Assert.Null(job.Profile);
        // A claim that names no encoders (the original service's workers) still gets it.
        Assert.Equal(job.Id, (await client.ClaimAsync())!.Id);
    }

    [Fact]
    public async Task ACodecAloneBringsItsDefaultEncoderAndPresetAndTheContainerNamesTheOutput()
    {
        var job = (await client.EnqueueAsync(new { file_name = "a.mov", video_codec = "hevc", crf = 26, container = "mkv", bit_depth = 10 }))[0];

        var expected = new EncodeSettings
        {
            VideoCodec = "hevc", Encoder = "libx265", Crf = "26", Preset = "medium", BitDepth = 10, Container = "mkv",
            Subtitles = SubtitleModes.Copy,
        };
        Assert.Equal(expected, job.Settings);
        Assert.Equal(("26", "medium", "a.mkv"), (job.Crf, job.Preset, job.OutputName));
    }

    [Fact]
    public async Task EveryChoiceIsKeptAsGiven()
    {
        var job = (await client.EnqueueAsync(new
        {
            file_name = "talk.mp4", encoder = "libsvtav1", bitrate = "2.5M", preset = 10, max_height = 720, audio = "opus",
            audio_bitrate = 96, container = "webm", subtitles = "copy", min_ssim = 0.97, min_psnr = 38.5, skip_if_larger = true,
        }))[0];

        Assert.Equal(new EncodeSettings
        {
            VideoCodec = "av1", Encoder = "libsvtav1", Bitrate = "2500k", Preset = "10", MaxHeight = 720, Audio = "opus", AudioBitrate = "96k",
            Container = "webm", Subtitles = "copy", MinSsim = 0.97, MinPsnr = 38.5, SkipIfLarger = true,
        }, job.Settings);
        Assert.Equal(("", "talk.webm"), (job.Crf, job.OutputName));
        Assert.Equal(job.Settings, (await client.GetJobAsync(job.Id)).Settings);
    }

    [Fact]
    public async Task SettingsKeepEveryTrackUnlessLanguagesSayWhichAndMayToneMapHdr()
    {
        // Beyond crf and preset, subtitles are copied by default: every track of the input is kept.
        var kept = (await client.EnqueueAsync(new { file_name = "a.mkv", crf = 23, preset = "fast", container = "mkv" }))[0];
        Assert.Equal(SubtitleModes.Copy, kept.Settings.Subtitles);
        Assert.Equal((null, null, null), (kept.Settings.AudioLanguages, kept.Settings.SubtitleLanguages, kept.Settings.Tonemap));
        Assert.Equal(EncoderCatalog.Libx264, kept.NeedsEncoder);

        var chosen = (await client.EnqueueAsync(new
        {
            file_name = "b.mkv", video_codec = "hevc", crf = 24, audio_languages = new[] { "ENG", "jpn", "eng" }, subtitle_languages = new[] { "eng" },
            tonemap = "sdr",
        }))[0];
        var read = (await client.GetJobAsync(chosen.Id)).Settings;
        Assert.Equal(["eng", "jpn"], read.AudioLanguages!);
        Assert.Equal(["eng"], read.SubtitleLanguages!);
        Assert.Equal(ToneMaps.Sdr, read.Tonemap);
        Assert.Null(chosen.Hdr);                 // no worker has probed its input yet
    }

    [Fact]
    public async Task AStreamCopyHasNoEncoderAndNeedsNoQuality()
    {
        var job = (await client.EnqueueAsync(new { file_name = "a.mp4", video_codec = "copy", audio = "copy", container = "mkv" }))[0];

        Assert.Equal(("copy", null, null, null), (job.Settings!.VideoCodec, job.Settings.Encoder, job.Settings.Crf, job.Settings.Preset));
        Assert.Equal("a.mkv", job.OutputName);
    }

    [Theory]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "h264", "crf": 23, "container": "webm"}""", "container", "webm cannot hold h264")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "vp9", "crf": 30, "container": "webm", "audio": "aac"}""", "audio", "aac cannot go into webm")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "h264", "encoder": "libx265", "crf": 23}""", "encoder", "libx265 makes hevc, not h264")]
    [InlineData("""{"file_name": "a.mp4", "encoder": "nope", "crf": 23}""", "encoder", "must be one of: libx264")]
    [InlineData("""{"file_name": "a.mp4", "crf": 60, "preset": "fast"}""", "crf", "from 0 to 51")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "av1", "crf": 64}""", "crf", "from 0 to 63")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "av1", "crf": 30, "bitrate": "2M"}""", "bitrate", "cannot be given with crf")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "av1"}""", "crf", "or give bitrate")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "copy", "crf": 20}""", "crf", "cannot be used with video_codec copy")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "copy", "max_height": 720}""", "max_height", "cannot be used with video_codec copy")]
    [InlineData("""{"file_name": "a.mp4", "encoder": "h264_nvenc", "crf": 23, "bit_depth": 10}""", "bit_depth", "h264_nvenc; it writes 8-bit")]
    [InlineData("""{"file_name": "a.mp4", "encoder": "libx264", "crf": 23, "preset": "p4"}""", "preset", "libx264's presets")]
    [InlineData("""{"file_name": "a.mp4", "encoder": "h264_vaapi", "crf": 23, "preset": "fast"}""", "preset", "no presets")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "bit_depth": 12}""", "bit_depth", "must be 8 or 10")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "max_height": 721}""", "max_height", "even whole number")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "av1", "crf": 30, "max_height": 32}""", "max_height", "from 64 to 8640")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "audio": "opus", "audio_bitrate": 300}""", "audio_bitrate", "at most 256k")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "audio": "copy", "audio_bitrate": 128}""", "audio_bitrate", "audio copy")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "audio_bitrate": "fast"}""", "audio_bitrate", "must be a bitrate")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "min_ssim": 1.5}""", "min_ssim", "from 0 to 1")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "skip_if_larger": "yes"}""", "skip_if_larger", "true or false")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "container": "avi"}""", "container", "must be one of: mp4, mkv, webm")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "hevc", "crf": 23, "container": "mkv", "output_name": "b.mp4"}""", "output_name", "must end in .mkv")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "profile": "no-such"}""", "profile", "'no-such' is not a profile")]
    [InlineData("""{"file_name": "a.mp4", "profile": "a b"}""", "profile", "must be a profile name")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "audio_languages": "eng"}""", "audio_languages", "must be a list of 1 to 20 language codes")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "audio_languages": []}""", "audio_languages", "ISO 639-2")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "subtitle_languages": ["english"]}""", "subtitle_languages", "language codes")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "subtitles": "drop", "subtitle_languages": ["eng"]}""", "subtitle_languages", "subtitles drop")]
    [InlineData("""{"file_name": "a.mp4", "crf": 23, "preset": "fast", "tonemap": "hdr"}""", "tonemap", "must be one of: sdr")]
    [InlineData("""{"file_name": "a.mp4", "video_codec": "copy", "tonemap": "sdr"}""", "tonemap", "cannot be used with video_codec copy")]
    public async Task AnImpossibleCombinationIsRefusedNamingItsFieldAndStoresNothing(string body, string field, string message)
    {
        var response = await client.PostAsync("/api/jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task ABadItemOfABulkRequestIsNamedByIndex()
    {
        var response = await client.PostAsJsonAsync("/api/jobs", new object[]
        {
            QueueCalls.NewJob("a.mkv"),
            new { file_name = "b.mkv", video_codec = "vp9", crf = 30, container = "mp4", audio = "opus" },
            new { file_name = "c.mkv", video_codec = "vp9", crf = 30, container = "webm" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((2, "audio"), (error.GetProperty("index").GetInt32(), error.GetProperty("field").GetString()));
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task DefaultOutputNamesAreNumberedWithinTheirContainersExtension()
    {
        var jobs = await client.EnqueueAsync(
            new { file_name = "x/a.mkv", video_codec = "vp9", crf = 30, container = "webm", audio = "opus" },
            new { file_name = "x/a.mp4", video_codec = "vp9", crf = 30, container = "webm", audio = "opus" },
            QueueCalls.NewJob("x/a.avi"));

        Assert.Equal(["x/a.webm", "x/a (2).webm", "x/a.mp4"], jobs.Select(job => job.OutputName));
    }
}
