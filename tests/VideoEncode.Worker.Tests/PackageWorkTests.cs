using System.Globalization;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Package tasks (issue 28): the ladder's rungs and arguments and the master playlist's repair as pure functions; then an
/// HLS ladder and a DASH ladder really encoded from a 5-second 640x360 clip (ultrafast, 2-second segments) and read back
/// by ffprobe: every rendition listed with BANDWIDTH, RESOLUTION and CODECS, decoding whole, as long as the input.
/// </summary>
public sealed class PackageWorkTests(PackageWorkTests.Clip clip) : IClassFixture<PackageWorkTests.Clip>
{
    private static readonly EncodeSettings Fast = EncodeSettings.Legacy("30", "ultrafast");

    private static readonly ProbeResult Input640 = new(true, 5, "h264", "")
    {
        Width = 640, Height = 360, AudioStreams = 1, Streams = [new(0, "video", "h264"), new(1, "audio", "aac")],
    };

    [Fact]
    public void RungsAboveTheInputAreDroppedAndEachIsAsWideAsTheAspectMakesItEven()
    {
        var rungs = PackageArguments.Rungs(new PackageSpec(PackageFormats.Hls, [1080, 720, 360, 240, 144], 4), 640, 360, Fast);

        Assert.Equal(["640x360", "426x240", "256x144"], rungs.Select(rung => $"{rung.Width}x{rung.Height}"));
        Assert.Equal(["360p", "240p", "144p"], rungs.Select(rung => rung.Name));
        // 0.1 bit a pixel at 30 frames a second.
        Assert.Equal([691, 307, 111], rungs.Select(rung => rung.MaxrateKbps));
        // Every rung above a tiny input: the lowest is kept, and an odd one made even.
        Assert.Equal([(192, 144)], PackageArguments.Rungs(new PackageSpec(PackageFormats.Hls, [720, 145], 4), 160, 120, Fast)
            .Select(rung => (rung.Width, rung.Height)));
    }

    [Theory]
    [InlineData(640, 360, 240, 426)]
    [InlineData(1920, 800, 240, 576)]
    [InlineData(1440, 1080, 720, 960)]
    [InlineData(720, 576, 144, 180)]
    [InlineData(101, 99, 144, 146)]
    public void WidthsRoundAsFfmpegsScaleToMinusTwoDoes(int width, int height, int rung, int expected) =>
        Assert.Equal(expected, PackageArguments.EvenScaled(rung, width, height));

    [Fact]
    public void AJobBitrateCapsTheTopRungAndScalesByPixelsBelowIt()
    {
        var settings = EncodeSettings.Defaults with { Bitrate = "2000k", Crf = null, Preset = "fast" };
        var rungs = PackageArguments.Rungs(new PackageSpec(PackageFormats.Hls, [360, 180], 4), 640, 360, settings);
        var args = PackageArguments.Build("in.mp4", "/w/package", new PackageSpec(PackageFormats.Hls, [360, 180], 4), rungs, settings, Input640, 1);

        Assert.Equal([2000, 500], rungs.Select(rung => rung.MaxrateKbps));
        Assert.DoesNotContain("-crf", args);
        Assert.Equal("-b:v:0 2000k -maxrate:v:0 2000k -bufsize:v:0 4000k -b:v:1 500k -maxrate:v:1 500k -bufsize:v:1 1000k",
            Between(args, "fast", "-force_key_frames"));
    }

    [Fact]
    public void OneDecodeIsSplitIntoEveryRungWithKeyframesAtEverySegmentAndTheAudioOnce()
    {
        var spec = new PackageSpec(PackageFormats.Hls, [360, 240, 144], 2);
        var rungs = PackageArguments.Rungs(spec, 640, 360, Fast);
        var args = PackageArguments.Build("in.mp4", "/w/package", spec, rungs, Fast, Input640, 1);

        Assert.Equal("[0:v:0]split=3[s0][s1][s2];[s0]scale=-2:360,format=yuv420p[v0];[s1]scale=-2:240,format=yuv420p[v1];" +
                     "[s2]scale=-2:144,format=yuv420p[v2]", After(args, "-filter_complex"));
        Assert.Equal("-map [v0] -map [v1] -map [v2] -map 0:1 -c:v libx264 -preset ultrafast -crf 30 " +
                     "-maxrate:v:0 691k -bufsize:v:0 1382k -maxrate:v:1 307k -bufsize:v:1 614k -maxrate:v:2 111k -bufsize:v:2 222k " +
                     "-force_key_frames expr:gte(t,n_forced*2) -sc_threshold 0 -c:a aac -b:a 128k -ac 2",
            Between(args, After(args, "-filter_complex"), "-sn"));
        Assert.Equal("v:0,agroup:audio,name:360p v:1,agroup:audio,name:240p v:2,agroup:audio,name:144p a:0,agroup:audio,name:audio",
            After(args, "-var_stream_map"));
        Assert.Equal(["fmp4", "vod", "2", "master.m3u8", "/w/package/%v/seg_%05d.m4s"],
            [After(args, "-hls_segment_type"), After(args, "-hls_playlist_type"), After(args, "-hls_time"), After(args, "-master_pl_name"),
                After(args, "-hls_segment_filename")]);
        Assert.Equal("/w/package/%v/index.m3u8", args[^1]);
    }

    [Fact]
    public void AnInputWithoutAudioHasNoAudioGroupAndDashHasNoAudioSet()
    {
        var hls = new PackageSpec(PackageFormats.Hls, [240], 4);
        var dash = hls with { Format = PackageFormats.Dash };
        var rungs = PackageArguments.Rungs(hls, 640, 360, Fast);

        var hlsArgs = PackageArguments.Build("in.mp4", "/w/p", hls, rungs, Fast, Input640, null);
        var dashArgs = PackageArguments.Build("in.mp4", "/w/p", dash, rungs, Fast, Input640, null);

        Assert.Equal("v:0,name:240p", After(hlsArgs, "-var_stream_map"));
        Assert.DoesNotContain("-c:a", hlsArgs);
        Assert.Equal("id=0,streams=v", After(dashArgs, "-adaptation_sets"));
        Assert.Equal(["dash", "4", "/w/p/manifest.mpd"], [After(dashArgs, "-f"), After(dashArgs, "-seg_duration"), dashArgs[^1]]);
    }

    [Fact]
    public void ALibx264JobsQualityAndAnAacJobsBitrateCarryOverAndOtherCodecsDoNot()
    {
        var spec = new PackageSpec(PackageFormats.Hls, [240], 4);
        var rungs = PackageArguments.Rungs(spec, 640, 360, Fast);
        var x264 = EncodeSettings.Defaults with { Crf = "21.5", Preset = "slow", AudioBitrate = "96k" };
        var hevc = EncodeSettings.Defaults with
        {
            VideoCodec = VideoCodecs.Hevc, Encoder = "libx265", Crf = "28", Preset = "slow", Audio = AudioCodecs.Opus, AudioBitrate = "64k",
        };

        var own = PackageArguments.Build("in", "/w", spec, rungs, x264, Input640, 1);
        var other = PackageArguments.Build("in", "/w", spec, rungs, hevc, Input640, 1);

        Assert.Equal(["libx264", "slow", "21.5", "96k"], [After(own, "-c:v"), After(own, "-preset"), After(own, "-crf"), After(own, "-b:a")]);
        Assert.Equal(["libx264", "medium", "23", "128k"], [After(other, "-c:v"), After(other, "-preset"), After(other, "-crf"), After(other, "-b:a")]);
    }

    [Fact]
    public void AnHdrInputIsToneMappedOnceBeforeTheSplitOrRefused()
    {
        var hdr = Input640 with { ColorTransfer = "smpte2084", ColorPrimaries = "bt2020" };
        var rungs = PackageArguments.Rungs(new PackageSpec(PackageFormats.Hls, [240, 144], 4), 640, 360, Fast);

        Assert.Contains("\"tonemap\": \"sdr\"", PackageArguments.HdrProblem(Fast, hdr));
        Assert.Null(PackageArguments.HdrProblem(Fast with { Tonemap = ToneMaps.Sdr }, hdr));
        Assert.Null(PackageArguments.HdrProblem(Fast, Input640));
        Assert.StartsWith("[0:v:0]zscale=t=linear:npl=100,", PackageArguments.FilterGraph(rungs, toneMap: true));
        Assert.Single(PackageArguments.FilterGraph(rungs, toneMap: true).Split("zscale=t=linear").Skip(1));
    }

    [Fact]
    public void TheMasterPlaylistLosesItsAudioOnlyVariantAndGainsMissingCodecs()
    {
        const string master = """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_audio",NAME="audio_2",DEFAULT=YES,URI="audio/index.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="group_audio"
            360p/index.m3u8

            #EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=426x240,AUDIO="group_audio"
            240p/index.m3u8

            #EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a.40.2",AUDIO="group_audio"
            audio/index.m3u8

            """;

        var patched = HlsMaster.Patch(master, uri => uri == "240p/index.m3u8" ? "avc1.640015" : null, "mp4a.40.2");
        var variants = HlsMaster.Variants(patched);

        Assert.Equal(["360p/index.m3u8", "240p/index.m3u8"], variants.Select(variant => variant.Uri));
        Assert.Equal(["avc1.64001e,mp4a.40.2", "avc1.640015,mp4a.40.2"], variants.Select(variant => variant.Attributes["CODECS"]));
        Assert.Equal("426x240", variants[1].Attributes["RESOLUTION"]);
        Assert.Contains("URI=\"audio/index.m3u8\"", patched);
        Assert.Equal(patched, HlsMaster.Patch(patched, _ => "never asked", "mp4a.40.2"));
    }

    [Fact]
    public void TheCodecOfAnInitSegmentIsReadFromItsAvcCBox()
    {
        byte[] ftyp = [0, 0, 0, 16, .. "ftypiso6"u8, 0, 0, 0, 0];
        byte[] init = [.. ftyp, 0, 0, 0, 13, .. "avcC"u8, 1, 0x64, 0x00, 0x1f, 0xff];

        Assert.Equal("avc1.64001f", HlsMaster.AvcCodec(init));
        Assert.Null(HlsMaster.AvcCodec(ftyp));
        Assert.Null(HlsMaster.AvcCodec(init.AsSpan(0, init.Length - 2)));
        Assert.Equal("init_0.mp4", HlsMaster.InitSegment("#EXTM3U\n#EXT-X-MAP:URI=\"init_0.mp4\"\n#EXTINF:2.0,\nseg_00000.m4s\n"));
    }

    [Fact]
    public async Task AnHlsLadderListsEveryVariantWithBandwidthResolutionAndCodecsAndEachDecodesWhole()
    {
        var (result, progressed, folder) = await RunAsync(new PackageSpec(PackageFormats.Hls, [360, 240, 144], 2));

        var done = Done(result);
        Assert.Equal(folder, done.Result);
        Assert.True(progressed);
        Assert.Equal(("h264", 360), (done.Finish.Codec, done.Finish.Height));
        Assert.Equal(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length), done.Finish.OutputBytes);
        Assert.StartsWith("ffmpeg ", done.Finish.CommandLine);

        var master = await File.ReadAllTextAsync(Path.Combine(folder, "master.m3u8"));
        var variants = HlsMaster.Variants(master);
        Assert.Equal(["360p/index.m3u8", "240p/index.m3u8", "144p/index.m3u8"], variants.Select(variant => variant.Uri));
        Assert.Equal(["640x360", "426x240", "256x144"], variants.Select(variant => variant.Attributes["RESOLUTION"]));
        Assert.All(variants, variant => Assert.Matches("^avc1\\.[0-9a-f]{6},mp4a\\.40\\.2$", variant.Attributes["CODECS"]));
        // Each rung's cap plus the audio, as ffmpeg advertises it (10 % over): the higher the rung, the more.
        var bandwidths = variants.Select(variant => long.Parse(variant.Attributes["BANDWIDTH"], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(bandwidths.OrderDescending(), bandwidths);
        Assert.All(bandwidths, bandwidth => Assert.InRange(bandwidth, 128_000, 2_000_000));
        Assert.Contains("TYPE=AUDIO", master);

        List<string> cuts = [];
        foreach (var variant in variants.Select(variant => variant.Uri).Append("audio/index.m3u8"))
        {
            var playlist = Path.Combine(folder, variant);
            var text = await File.ReadAllTextAsync(playlist);
            Assert.Contains("#EXT-X-PLAYLIST-TYPE:VOD", text);
            Assert.Contains("#EXT-X-MAP:URI=", text);
            if (!variant.StartsWith("audio", StringComparison.Ordinal))
                cuts.Add(string.Join(' ', text.Split('\n').Where(line => line.StartsWith("#EXTINF", StringComparison.Ordinal))));
            await AssertDecodesWholeAsync(playlist);
        }
        // Keyframes at the same times in every rendition: every one is cut into the same segments.
        Assert.Single(cuts.Distinct());
        Assert.Equal(3, cuts[0].Split(' ').Length);
    }

    [Fact]
    public async Task ADashLadderDropsTheRungAboveTheInputAndEveryRepresentationDecodes()
    {
        var (result, _, folder) = await RunAsync(new PackageSpec(PackageFormats.Dash, [720, 240, 144], 2));

        var done = Done(result);
        Assert.Equal(240, done.Finish.Height);
        var manifest = Path.Combine(folder, "manifest.mpd");
        var (exit, stdout, stderr) = await TestMedia.RunAsync("ffprobe",
            ["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration", "-of", "json", manifest]);
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToList();
        Assert.Equal(["h264 426x240", "h264 256x144", "aac"], streams.Select(stream => stream.GetProperty("codec_type").GetString() == "video"
            ? $"{stream.GetProperty("codec_name").GetString()} {stream.GetProperty("width").GetInt32()}x{stream.GetProperty("height").GetInt32()}"
            : stream.GetProperty("codec_name").GetString()));
        Assert.InRange(double.Parse(json.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture),
            clip.Seconds - 0.5, clip.Seconds + 0.5);
        for (var index = 0; index < streams.Count; index++)
            await AssertDecodesWholeAsync(manifest, $"0:{index}");
    }

    [Fact]
    public async Task AnInputWithoutAudioMakesVariantsOfVideoAlone()
    {
        var (result, _, folder) = await RunAsync(new PackageSpec(PackageFormats.Hls, [144], 2), clip.SilentPath);

        Done(result);
        var variant = Assert.Single(HlsMaster.Variants(await File.ReadAllTextAsync(Path.Combine(folder, "master.m3u8"))));
        Assert.Matches("^avc1\\.[0-9a-f]{6}$", variant.Attributes["CODECS"]);
        Assert.False(variant.Attributes.ContainsKey("AUDIO"));
        Assert.Equal(["144p"], Directory.GetDirectories(folder).Select(Path.GetFileName));
        await AssertDecodesWholeAsync(Path.Combine(folder, variant.Uri));
    }

    [Fact]
    public void AnFfmpegRunEndsTheTaskAsAPlainJobsEncodeWould()
    {
        var stall = TimeSpan.FromSeconds(30);

        Assert.Null(FfmpegEnding.Of(new EncodeOutcome(0, ""), stall, "ffmpeg -i x"));
        Assert.IsType<TaskWorkResult.Stopped>(FfmpegEnding.Of(new EncodeOutcome(null, "killed"), stall, "ffmpeg -i x"));
        var stalled = Assert.IsType<TaskWorkResult.Failed>(FfmpegEnding.Of(new EncodeOutcome(null, "tail", Stalled: true), stall, "ffmpeg -i x"));
        Assert.Equal(("ffmpeg made no progress for 30 s; stopped", true, "tail"), (stalled.Failure.Error, stalled.Failure.Retryable, stalled.Failure.LogTail));
        var failed = Assert.IsType<TaskWorkResult.Failed>(FfmpegEnding.Of(new EncodeOutcome(1, "first\nInvalid data found\n"), stall, "ffmpeg -i x"));
        Assert.Equal(("ffmpeg exited with code 1: Invalid data found", false, "ffmpeg -i x"),
            (failed.Failure.Error, failed.Failure.Retryable, failed.Failure.CommandLine));
    }

    [Fact]
    public async Task AnInputFfmpegCannotReadFailsTheTaskForGoodWithItsLog()
    {
        var broken = Path.Combine(clip.Folder, "broken.mp4");
        await File.WriteAllTextAsync(broken, "not a video");

        // The probe of the real clip stands in for one of the broken file: the runner probes before the work runs.
        var (result, _, _) = await RunAsync(new PackageSpec(PackageFormats.Hls, [144], 2), clip.Path, readFrom: broken);

        var failed = Assert.IsType<TaskWorkResult.Failed>(result);
        Assert.False(failed.Failure.Retryable);
        Assert.StartsWith("ffmpeg exited with code", failed.Failure.Error);
        Assert.Contains("broken.mp4", failed.Failure.LogTail);
        Assert.StartsWith("ffmpeg ", failed.Failure.CommandLine);
    }

    [Fact]
    public async Task AClaimThatEndsStopsTheRun()
    {
        var (result, _, _) = await RunAsync(new PackageSpec(PackageFormats.Dash, [144], 2), stop: new CancellationToken(canceled: true));

        Assert.IsType<TaskWorkResult.Stopped>(result);
    }

    private async Task<(TaskWorkResult Result, bool Progressed, string Folder)> RunAsync(PackageSpec spec, string? inputPath = null,
        string? readFrom = null, CancellationToken stop = default)
    {
        var path = inputPath ?? clip.Path;
        var work = Directory.CreateDirectory(Path.Combine(clip.Folder, Guid.NewGuid().ToString("N"))).FullName;
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(30));
        var input = await ffmpeg.ProbeAsync(path, CancellationToken.None);
        var job = new Job { Id = 7, FileName = "movies/a.mp4", Crf = Fast.Crf!, Preset = Fast.Preset!, OutputName = "movies/a",
            Task = new JobTask { JobId = 6, Index = 1, Kind = TaskKinds.Package, Package = spec } };
        var progressed = false;
        var context = new TaskContext(job, job.Task, readFrom ?? path, input, work, ffmpeg, TimeSpan.FromSeconds(30), _ => progressed = true,
            (_, _) => throw new InvalidOperationException("A package reads no parts."));
        var result = await new PackageWork().RunAsync(context, stop);
        return (result, progressed, Path.Combine(work, PackageWork.FolderName));
    }

    /// <summary>Decodes every frame of <paramref name="path"/> (or of one stream of it) with no error, to about the input's length.</summary>
    private async Task AssertDecodesWholeAsync(string path, string? map = null)
    {
        var (exit, stdout, stderr) = await TestMedia.RunAsync("ffmpeg",
            ["-v", "error", "-i", path, .. map is null ? Array.Empty<string>() : ["-map", map], "-f", "null", "-progress", "pipe:1", "-"]);
        Assert.True(exit == 0 && stderr.Length == 0, $"{path} {map}: {stderr}");
        var decoded = stdout.Split('\n').Last(line => line.StartsWith("out_time_us=", StringComparison.Ordinal))["out_time_us=".Length..];
        Assert.InRange(long.Parse(decoded, CultureInfo.InvariantCulture) / 1e6, clip.Seconds - 0.5, clip.Seconds + 0.5);
    }

    /// <summary>The result, done; a failure fails the test with its error and log.</summary>
    internal static TaskWorkResult.Done Done(TaskWorkResult result) => result is TaskWorkResult.Failed failed
        ? throw new Xunit.Sdk.XunitException($"{failed.Failure.Error}\n{failed.Failure.LogTail}")
        : Assert.IsType<TaskWorkResult.Done>(result);

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];

    private static string Between(IReadOnlyList<string> args, string first, string last)
    {
        var list = args.ToList();
        var from = list.IndexOf(first);
        return string.Join(' ', list.Skip(from + 1).Take(list.IndexOf(last, from) - from - 1));
    }

    public sealed class Clip : IAsyncLifetime
    {
        public double Seconds => 5;
        public string Folder { get; } = Directory.CreateTempSubdirectory("videoencode-package-").FullName;
        public string Path => System.IO.Path.Combine(Folder, "in.mp4");

        public string SilentPath => System.IO.Path.Combine(Folder, "silent.mp4");

        public async Task InitializeAsync()
        {
            await TestMedia.MakeClipAsync(Path, Seconds, "640x360", 25);
            await TestMedia.MakeClipAsync(SilentPath, Seconds, "320x180", 25, audio: false);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }
}
