using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// The ffmpeg arguments each setting becomes. There is no GPU here: the hardware encoders' lists are
/// checked as arguments, not run (<see cref="EncoderMatrixTests"/> runs the software ones).
/// </summary>
public sealed class EncodeArgumentsTests
{
    /// <summary>An input of one video stream (of <paramref name="video"/>), one audio track, and subtitle tracks of these codecs, untagged.</summary>
    internal static ProbeResult Probed(string? video, params string[] subtitles) => new(true, 10, video, "")
    {
        AudioStreams = 1, SubtitleCodecs = subtitles,
        Streams = [new(0, "video", video ?? "h264"), new(1, "audio", "aac"), .. subtitles.Select((codec, i) => new ProbedStream(i + 2, "subtitle", codec))],
    };

    private static readonly EncodeSettings Hevc = new() { VideoCodec = VideoCodecs.Hevc, Encoder = "libx265", Crf = "24", Preset = "slow" };

    [Theory]
    [InlineData("mp4", "hdmv_pgs_subtitle", true)]
    [InlineData("webm", "dvd_subtitle", true)]
    [InlineData("mkv", "hdmv_pgs_subtitle", false)]
    [InlineData("mp4", "subrip", false)]
    public void PictureSubtitlesCannotBeCopiedIntoATextOnlyContainer(string container, string codec, bool refused)
    {
        var settings = Hevc with { Container = container, Subtitles = SubtitleModes.Copy, Audio = container == "webm" ? AudioCodecs.Opus : AudioCodecs.Aac };

        var problem = EncodeArguments.SubtitleProblem(settings, Probed("h264", "subrip", codec));

        Assert.Equal(refused, problem is not null);
        if (refused) Assert.Contains($"({codec}) are pictures, which {container} cannot hold", problem);
        Assert.Null(EncodeArguments.SubtitleProblem(settings with { Subtitles = SubtitleModes.Drop }, Probed("h264", codec)));
    }

    [Fact]
    public void OpusIsGivenALayoutLibopusTakes()
    {
        var args = EncodeArguments.Build("in.mkv", "out", Hevc with { Audio = AudioCodecs.Opus, Container = Containers.Mkv }, Probed("h264"));

        Assert.Equal("aformat=channel_layouts=7.1|5.1|stereo|mono", args[args.ToList().IndexOf("-af") + 1]);
    }

    [Fact]
    public void TodaysEncodeKeepsExactlyItsArgumentList()
    {
        var args = EncodeArguments.Build("in.mkv", "out.partial", EncodeSettings.Legacy("18.5", "veryslow"), Probed("h264"));

        Assert.Equal([
            "-hide_banner", "-nostdin", "-y", "-protocol_whitelist", "file", "-i", "file:in.mkv",
            "-map", "0:v:0", "-map", "0:a?",
            "-c:v", "libx264", "-crf", "18.5", "-preset", "veryslow",
            "-c:a", "aac", "-movflags", "+faststart", "-progress", "pipe:1", "-nostats", "-f", "mp4", "out.partial"], args);
    }

    [Fact]
    public void AJobWithoutSettingsIsTodaysEncodeOfItsCrfAndPreset()
    {
        Assert.Equal(EncodeSettings.Legacy("30", "fast"), new Job { Crf = "30", Preset = "fast" }.Settings);
        Assert.Same(Hevc, new Job { Crf = "30", Preset = "fast", Settings = Hevc }.Settings);
    }

    [Fact]
    public void EveryEncoderInTheCatalogGetsArgumentsForQualityBitrateAndEachOfItsDepths()
    {
        foreach (var encoder in EncoderCatalog.Encoders)
            foreach (var depth in encoder.BitDepths)
            {
                var settings = new EncodeSettings
                {
                    VideoCodec = encoder.Codec, Encoder = encoder.Name, Crf = "20", Preset = encoder.DefaultPreset, BitDepth = depth,
                };
                var quality = EncodeArguments.Build("in.mkv", "out", settings, Probed(null));
                var bitrate = EncodeArguments.Build("in.mkv", "out", settings with { Crf = null, Bitrate = "2500k" }, Probed(null));

                Assert.Equal(encoder.Name, After(quality, "-c:v"));
                Assert.Contains(quality, arg => arg is "-crf" or "-cq" or "-qp" or "-global_quality");
                Assert.Equal("2500k", After(bitrate, "-b:v"));
                Assert.DoesNotContain(bitrate, arg => arg is "-crf" or "-cq" or "-qp" or "-global_quality");
                if (encoder.DefaultPreset is { } preset) Assert.Contains(preset, quality);
            }
    }

    [Theory]
    [InlineData("libx264", "fast", 8, "-c:v libx264 -crf 20.5 -preset fast -pix_fmt yuv420p")]
    [InlineData("libx264", "fast", 10, "-c:v libx264 -crf 20.5 -preset fast -pix_fmt yuv420p10le")]
    [InlineData("libx265", "fast", 10, "-c:v libx265 -crf 20.5 -preset fast -pix_fmt yuv420p10le")]
    [InlineData("libsvtav1", "10", 10, "-c:v libsvtav1 -crf 21 -preset 10 -pix_fmt yuv420p10le")]
    [InlineData("libaom-av1", "6", 8, "-c:v libaom-av1 -crf 21 -b:v 0 -cpu-used 6 -row-mt 1 -pix_fmt yuv420p")]
    [InlineData("libvpx-vp9", "5", 8, "-c:v libvpx-vp9 -crf 21 -b:v 0 -deadline good -cpu-used 5 -row-mt 1 -pix_fmt yuv420p")]
    [InlineData("h264_nvenc", "p5", 8, "-c:v h264_nvenc -rc vbr -cq 20.5 -b:v 0 -preset p5 -pix_fmt yuv420p")]
    [InlineData("hevc_nvenc", "p5", 10, "-c:v hevc_nvenc -rc vbr -cq 20.5 -b:v 0 -preset p5 -pix_fmt p010le")]
    [InlineData("h264_qsv", "fast", 8, "-c:v h264_qsv -global_quality 21 -preset fast -pix_fmt nv12")]
    [InlineData("hevc_qsv", "fast", 10, "-c:v hevc_qsv -global_quality 21 -preset fast -pix_fmt p010le")]
    [InlineData("vp9_qsv", "fast", 8, "-c:v vp9_qsv -global_quality 21 -preset fast -pix_fmt nv12")]
    public void EachEncoderSpeaksItsOwnQualitySpeedAndPixelFormat(string name, string preset, int depth, string expected)
    {
        var encoder = EncoderCatalog.Find(name)!;
        var settings = new EncodeSettings
        {
            VideoCodec = encoder.Codec, Encoder = name, Crf = "20.5", Preset = preset, BitDepth = depth, Container = Containers.Mkv,
        };

        var args = EncodeArguments.Build("in.mkv", "out", settings, Probed(null));

        AssertRun(args, expected);
        Assert.DoesNotContain("-vaapi_device", args);
    }

    [Fact]
    public void AVaapiEncodeOpensTheDeviceAndScalesBeforeItUploadsTenBitFrames()
    {
        var settings = new EncodeSettings { VideoCodec = VideoCodecs.Hevc, Encoder = "hevc_vaapi", Crf = "23.5", Preset = null, BitDepth = 10, MaxHeight = 720 };

        var args = EncodeArguments.Build("in.mkv", "out", settings, Probed(null)).ToList();

        AssertRun(args, "-vaapi_device /dev/dri/renderD128");
        Assert.True(args.IndexOf("-vaapi_device") < args.IndexOf("-i"), "the device is a global option, before the input");
        Assert.Equal("scale=-2:'trunc(min(ih,720)/2)*2',format=p010,hwupload", After(args, "-vf"));
        AssertRun(args, "-c:v hevc_vaapi -rc_mode CQP -qp 24");
        Assert.DoesNotContain("-pix_fmt", args);
        Assert.DoesNotContain("-preset", args);
        Assert.Equal("format=nv12,hwupload", After(EncodeArguments.Build("in.mkv", "out", settings with { Encoder = "h264_vaapi",
            VideoCodec = VideoCodecs.H264, BitDepth = 8, MaxHeight = null }, Probed(null)), "-vf"));
    }

    [Fact]
    public void MaxHeightScalesDownOnlyKeepingTheAspectWithAnEvenWidth()
    {
        var args = EncodeArguments.Build("in.mkv", "out", Hevc with { MaxHeight = 480 }, Probed(null));
        Assert.Equal("scale=-2:'trunc(min(ih,480)/2)*2'", After(args, "-vf"));
        Assert.DoesNotContain("-vf", EncodeArguments.Build("in.mkv", "out", Hevc, Probed(null)));
    }

    [Fact]
    public void HevcInMp4IsTaggedHvc1ForApplePlayersWhetherEncodedOrCopied()
    {
        AssertRun(EncodeArguments.Build("in.mkv", "out", Hevc, Probed("h264")), "-tag:v hvc1");
        AssertRun(EncodeArguments.Build("in.mkv", "out", Hevc with { Encoder = "hevc_nvenc", Preset = "p4" }, Probed("h264")), "-tag:v hvc1");
        Assert.DoesNotContain("-tag:v", EncodeArguments.Build("in.mkv", "out", Hevc with { Container = Containers.Mkv }, Probed("h264")));
        var copy = new EncodeSettings { VideoCodec = VideoCodecs.Copy, Encoder = null };
        AssertRun(EncodeArguments.Build("in.mkv", "out", copy, Probed("hevc")), "-tag:v hvc1");
        Assert.DoesNotContain("-tag:v", EncodeArguments.Build("in.mkv", "out", copy, Probed("h264")));
    }

    [Fact]
    public void ACopiedVideoStreamIsNeitherFilteredNorConverted()
    {
        var copy = new EncodeSettings { VideoCodec = VideoCodecs.Copy, Encoder = null, MaxHeight = 480, BitDepth = 10, Container = Containers.Mkv };

        var args = EncodeArguments.Build("in.mkv", "out", copy, Probed("vp9"));

        AssertRun(args, "-c:v copy -c:a aac");
        Assert.DoesNotContain(args, arg => arg is "-vf" or "-pix_fmt" or "-crf" or "-preset");
        Assert.Equal("vp9", EncodeArguments.OutputVideoCodec(copy, "vp9"));
        Assert.Equal("hevc", EncodeArguments.OutputVideoCodec(Hevc, "vp9"));
    }

    [Theory]
    [InlineData(AudioCodecs.Copy, null, "-c:a copy")]
    [InlineData(AudioCodecs.Aac, "192k", "-c:a aac -b:a 192k")]
    [InlineData(AudioCodecs.Opus, "96k", "-c:a libopus -b:a 96k")]
    public void AudioIsCopiedOrEncodedAtTheAskedBitrate(string audio, string? bitrate, string expected)
    {
        var args = EncodeArguments.Build("in.mkv", "out", Hevc with { Audio = audio, AudioBitrate = bitrate }, Probed(null));
        AssertRun(args, "-map 0:0 -map 0:1 -disposition:1 0");
        AssertRun(args, expected);
        Assert.Equal(bitrate, args.Contains("-b:a") ? After(args, "-b:a") : null);
        Assert.Single(args, arg => arg == "-c:a");
    }

    [Theory]
    [InlineData(Containers.Mp4, "mov_text", "mp4")]
    [InlineData(Containers.Mkv, "copy", "matroska")]
    [InlineData(Containers.Webm, "webvtt", "webm")]
    public void CopiedSubtitlesTakeAFormTheContainerHolds(string container, string subtitleCodec, string muxer)
    {
        var settings = new EncodeSettings { VideoCodec = VideoCodecs.Vp9, Encoder = "libvpx-vp9", Crf = "31", Preset = "4", Container = container, Audio = AudioCodecs.Opus };

        var copied = EncodeArguments.Build("in.mkv", "out", settings with { Subtitles = SubtitleModes.Copy }, Probed(null, "subrip"));
        var dropped = EncodeArguments.Build("in.mkv", "out", settings, Probed(null, "subrip"));

        AssertRun(copied, "-map 0:0 -map 0:1 -map 0:2 -disposition:1 0 -disposition:2 0");
        Assert.Equal(subtitleCodec, After(copied, "-c:s"));
        Assert.DoesNotContain("0:2", dropped);
        Assert.DoesNotContain("-c:s", dropped);
        foreach (var args in new[] { copied, dropped })
        {
            Assert.Equal(["-f", muxer, "out"], args.TakeLast(3));
            Assert.Equal(container == Containers.Mp4, args.Contains("+faststart"));
        }
    }

    [Fact]
    public void TheConsoleDescribesTheEncoderAndItsSettings()
    {
        Assert.Equal("libx264 crf 23, preset medium, 8-bit, audio aac, mp4", EncodeArguments.Describe(EncodeSettings.Legacy("23", "medium")));
        Assert.Equal("hevc_nvenc bitrate 4000k, preset p6, 10-bit, at most 1080 lines, audio opus 96k, mkv, subtitles copied",
            EncodeArguments.Describe(new EncodeSettings
            {
                VideoCodec = VideoCodecs.Hevc, Encoder = "hevc_nvenc", Bitrate = "4000k", Preset = "p6", BitDepth = 10, MaxHeight = 1080,
                Audio = AudioCodecs.Opus, AudioBitrate = "96k", Container = Containers.Mkv, Subtitles = SubtitleModes.Copy,
            }));
        Assert.Equal("video copied, audio copy, mkv",
            EncodeArguments.Describe(new EncodeSettings { VideoCodec = VideoCodecs.Copy, Encoder = null, Audio = AudioCodecs.Copy, Container = Containers.Mkv }));
    }

    [Fact]
    public void TheCommandLineQuotesWhatAShellWouldSplitOrExpand()
    {
        var line = CommandLineText.Render("/usr/bin/ffmpeg",
            ["-i", "file:/media/my clip's.mkv", "-map", "0:a?", "-vf", "scale=-2:'min(ih,720)'", "-crf", "23.5", "$HOME", ""], 1000);

        Assert.Equal("/usr/bin/ffmpeg -i 'file:/media/my clip'\\''s.mkv' -map '0:a?' -vf 'scale=-2:'\\''min(ih,720)'\\''' -crf 23.5 '$HOME' ''", line);
    }

    [Fact]
    public void ALongCommandLineIsCutToTheLimitTheHostKeeps()
    {
        var line = CommandLineText.Render("ffmpeg", ["-i", new string('a', 20_000)], FinishReport.MaxCommandLineChars);
        Assert.Equal(FinishReport.MaxCommandLineChars, line.Length);
        Assert.EndsWith("…", line);
    }

    /// <summary>Asserts that <paramref name="run"/> (arguments separated by spaces) appears in order, side by side.</summary>
    private static void AssertRun(IReadOnlyList<string> args, string run)
    {
        var joined = " " + string.Join(" ", args) + " ";
        Assert.True(joined.Contains(" " + run + " ", StringComparison.Ordinal), $"expected '{run}' in: {joined}");
    }

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];
}
