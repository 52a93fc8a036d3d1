using VideoEncode.Contracts;
using VideoEncode.Testing;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Every track, chapter, tag, attachment and the HDR of the input kept unless the job says otherwise
/// (issue 30). The rules as arguments, without ffmpeg; then four tiny real encodes read back by ffprobe:
/// HDR10 kept in HEVC 10-bit, HDR10 tone-mapped to SDR H.264, and a file of many tracks into MKV and MP4.
/// </summary>
public sealed class KeepWhatTheInputHasTests(KeepWhatTheInputHasTests.Clips clips) : IClassFixture<KeepWhatTheInputHasTests.Clips>
{
    private static readonly EncodeSettings Hevc10 = EncodeSettings.Defaults with
    {
        VideoCodec = VideoCodecs.Hevc, Encoder = "libx265", Crf = "30", Preset = "ultrafast", BitDepth = 10, Container = Containers.Mkv,
    };

    private static readonly EncodeSettings H264 = EncodeSettings.Defaults with { Crf = "30", Preset = "ultrafast" };

    /// <summary>What <see cref="Ffmpeg.ProbeAsync"/> finds in <see cref="TestMedia.MakeHdr10ClipAsync"/>, written out.</summary>
    private static readonly ProbeResult Hdr10 = new(true, 1, "hevc", "")
    {
        ColorPrimaries = "bt2020", ColorTransfer = "smpte2084", ColorSpace = "bt2020nc", ContentLightLevel = "1000,400",
        MasteringDisplay = new MasteringDisplay([0.265m, 0.69m, 0.15m, 0.06m, 0.68m, 0.32m, 0.3127m, 0.329m, 1000m, 0.0001m]),
        Streams = [new(0, "video", "hevc")],
    };

    /// <summary>Video, then audio eng (default), jpn, fra, untagged; subtitles eng, jpn (forced), pgs (untagged); a font; a data stream.</summary>
    private static readonly ProbeResult ManyTracks = new(true, 10, "h264", "")
    {
        AudioStreams = 4, SubtitleCodecs = ["subrip", "subrip", "hdmv_pgs_subtitle"], Chapters = 3,
        Streams =
        [
            new(0, "video", "h264"), new(1, "audio", "aac", "eng", "English", Default: true), new(2, "audio", "aac", "jpn"),
            new(3, "audio", "ac3", "fra"), new(4, "audio", "aac"), new(5, "subtitle", "subrip", "eng"),
            new(6, "subtitle", "subrip", "jpn", Forced: true), new(7, "subtitle", "hdmv_pgs_subtitle", "und"), new(8, "attachment", "ttf"),
            new(9, "data", "bin_data"),
        ],
    };

    [Theory]
    [InlineData("\"color_transfer\": \"smpte2084\", \"side_data_list\": [{\"side_data_type\": \"DOVI configuration record\"}]", HdrKinds.DolbyVision)]
    [InlineData("\"color_transfer\": \"smpte2084\", \"codec_tag_string\": \"dvh1\"", HdrKinds.DolbyVision)]
    [InlineData("\"color_transfer\": \"smpte2084\"", HdrKinds.Hdr10)]
    [InlineData("\"color_transfer\": \"arib-std-b67\"", HdrKinds.Hlg)]
    [InlineData("\"color_transfer\": \"unknown\"", HdrKinds.None)]
    [InlineData("\"color_transfer\": \"bt709\"", HdrKinds.None)]
    public void TheProbeTellsDolbyVisionHdr10HlgAndSdrApart(string video, string hdr)
    {
        var probed = Ffmpeg.Read($$"""{"streams": [{"index": 0, "codec_type": "video", "codec_name": "hevc", {{video}}}]}""", "");

        Assert.Equal(hdr, probed.Hdr);
    }

        [Fact]
    public void EveryTrackIsMappedInOrderWithItsFlagsAndFontsOnlyIntoMatroska()
    {
        var mkv = EncodeArguments.Build("in.mkv", "out", H264 with { Container = Containers.Mkv }, ManyTracks);
        var mp4 = EncodeArguments.Build("in.mkv", "out", H264 with { SubtitleLanguages = ["eng", "jpn"] }, ManyTracks);

        Assert.Equal("-map 0:0 -map 0:1 -map 0:2 -map 0:3 -map 0:4 -map 0:5 -map 0:6 -map 0:7 -map 0:8 " +
                     "-disposition:1 default -disposition:2 0 -disposition:3 0 -disposition:4 0 -disposition:5 0 -disposition:6 forced -disposition:7 0 -c:v",
            Between(mkv, "file:in.mkv", "libx264"));
        // No font in MP4; the untagged picture subtitle stays with the languages named, and is why mp4 is refused below.
        Assert.Equal(["0:0", "0:1", "0:2", "0:3", "0:4", "0:5", "0:6", "0:7"], mp4.Where((_, i) => i > 0 && mp4[i - 1] == "-map"));
        Assert.Contains("hdmv_pgs_subtitle", EncodeArguments.SubtitleProblem(H264, ManyTracks));
        Assert.Null(EncodeArguments.SubtitleProblem(H264 with { SubtitleLanguages = ["eng"] }, ManyTracks with
        {
            Streams = [.. ManyTracks.Streams.Where(stream => stream.Codec != "hdmv_pgs_subtitle")],
        }));
    }

    [Fact]
    public void LanguagesKeepTheirTracksAndUntaggedOnesButNeverLeaveNoAudio()
    {
        var chosen = EncodeArguments.Kept(H264 with { AudioLanguages = ["jpn", "eng"], SubtitleLanguages = ["jpn"] }, ManyTracks);
        Assert.Equal([0, 1, 2, 4, 6, 7], chosen.Select(stream => stream.Index));     // the input's order, not the list's

        var none = EncodeArguments.Kept(H264 with { AudioLanguages = ["deu"], Subtitles = SubtitleModes.Drop },
            ManyTracks with { Streams = [.. ManyTracks.Streams.Where(stream => stream.Index != 4)] });
        Assert.Equal([0, 1, 2, 3], none.Select(stream => stream.Index));              // no German: every audio track rather than none
        Assert.Equal("-map 0:v:0 -map 0:a?", Between(EncodeArguments.Build("in", "out", EncodeSettings.Legacy("23", "fast"), ManyTracks), "file:in", "-c:v"));
    }

    [Theory]
    [InlineData(VideoCodecs.H264, EncoderCatalog.Libx264, 8, null, true)]
    [InlineData(VideoCodecs.Hevc, "libx265", 8, null, true)]
    [InlineData(VideoCodecs.Vp9, "libvpx-vp9", 8, null, true)]
    [InlineData(VideoCodecs.Hevc, "libx265", 10, null, false)]
    [InlineData(VideoCodecs.Av1, "libsvtav1", 10, null, false)]
    [InlineData(VideoCodecs.H264, EncoderCatalog.Libx264, 8, ToneMaps.Sdr, false)]
    [InlineData(VideoCodecs.Copy, null, 8, null, false)]
    public void AnOutputThatCannotHoldHdrIsRefusedUnlessToneMapped(string codec, string? encoder, int depth, string? tonemap, bool refused)
    {
        var settings = H264 with { VideoCodec = codec, Encoder = encoder, BitDepth = depth, Tonemap = tonemap, Container = Containers.Mkv };

        var problem = EncodeArguments.HdrProblem(settings, Hdr10);

        Assert.Equal(refused, problem is not null);
        if (refused) Assert.Contains("the input is HDR (hdr10)", problem);
        if (refused) Assert.Contains("bit_depth 10", problem);
        if (refused) Assert.Contains("\"tonemap\": \"sdr\"", problem);
        Assert.Null(EncodeArguments.HdrProblem(settings, Hdr10 with { ColorTransfer = "bt709", ColorPrimaries = "bt709" }));
    }

    [Fact]
    public void HdrMetadataGoesToTheEncoderInItsOwnNotation()
    {
        var x265 = EncodeArguments.Build("in", "out", Hevc10, Hdr10);
        var svt = EncodeArguments.Build("in", "out", Hevc10 with { VideoCodec = VideoCodecs.Av1, Encoder = "libsvtav1", Preset = "12" }, Hdr10);
        var hlg = EncodeArguments.Build("in", "out", Hevc10, Hdr10 with { ColorTransfer = "arib-std-b67", MasteringDisplay = null, ContentLightLevel = null });

        Assert.Equal("hdr10=1:hdr10-opt=1:repeat-headers=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
            After(x265, "-x265-params"));
        Assert.Equal("mastering-display=G(0.265,0.69)B(0.15,0.06)R(0.68,0.32)WP(0.3127,0.329)L(1000.0,0.0001):content-light=1000,400", After(svt, "-svtav1-params"));
        foreach (var args in new[] { x265, svt, hlg })
            Assert.Equal("bt2020", After(args, "-color_primaries"));
        Assert.Equal("arib-std-b67", After(hlg, "-color_trc"));
        Assert.DoesNotContain("-x265-params", hlg);
        Assert.DoesNotContain("-color_trc", EncodeArguments.Build("in", "out", Hevc10, Hdr10 with { ColorTransfer = "bt709" }));
    }

    [Fact]
    public void ToneMappingRunsAfterTheScaleAndTagsTheResultBt709()
    {
        var args = EncodeArguments.Build("in", "out", H264 with { Tonemap = ToneMaps.Sdr, MaxHeight = 720 }, Hdr10);

        Assert.StartsWith("scale=-2:'trunc(min(ih,720)/2)*2',zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable", After(args, "-vf"));
        Assert.EndsWith(",format=yuv420p", After(args, "-vf"));
        Assert.Equal(("bt709", "bt709"), (After(args, "-color_primaries"), After(args, "-color_trc")));
        Assert.DoesNotContain("-vf", EncodeArguments.Build("in", "out", H264 with { Tonemap = ToneMaps.Sdr }, Hdr10 with { ColorTransfer = null }));
    }

    [Fact]
    public void TheGateCountsEachKindOfTrackTheChaptersAndTheHdr()
    {
        var settings = H264 with { Container = Containers.Mkv, AudioLanguages = ["eng"] };
        var kept = EncodeArguments.Kept(settings, ManyTracks);
        var good = new ProbeResult(true, 10, "h264", "") { Streams = kept, Chapters = 3 };
        Assert.Null(QualityGate.StreamProblem(settings, ManyTracks, good));

        Assert.Equal("the job keeps 2 audio streams of the input, the result has 1 audio stream",
            QualityGate.StreamProblem(settings, ManyTracks, good with { Streams = [.. kept.Where(stream => stream.Index != 4)] }));
        Assert.Equal("the job keeps 1 attachment of the input, the result has 0 attachments",
            QualityGate.StreamProblem(settings, ManyTracks, good with { Streams = [.. kept.Where(stream => stream.Kind != "attachment")] }));
        Assert.Equal("the input has 3 chapters, the result 0 chapters", QualityGate.StreamProblem(settings, ManyTracks, good with { Chapters = 0 }));

        var hdrOut = Hdr10 with { VideoCodec = "hevc", DurationSeconds = 1 };
        Assert.Null(QualityGate.StreamProblem(Hevc10, Hdr10, hdrOut));
        Assert.Contains("its HDR was lost", QualityGate.StreamProblem(Hevc10, Hdr10, hdrOut with { ColorTransfer = "bt709" }));
        Assert.Contains("is still hdr10", QualityGate.StreamProblem(H264 with { Tonemap = ToneMaps.Sdr }, Hdr10, hdrOut with { VideoCodec = "h264" }));
    }

    [Fact]
    public async Task AnHdr10InputIsKeptInHevcTenBitAndToneMappedToSdrWhenAsked()
    {
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));
        var input = await ffmpeg.ProbeAsync(clips.Hdr10, CancellationToken.None);
        Assert.Equal((HdrKinds.Hdr10, "1000,400"), (input.Hdr, input.ContentLightLevel));
        Assert.Equal(Hdr10.MasteringDisplay!.X265, input.MasteringDisplay?.X265);
        Assert.Contains("HDR", EncodeArguments.HdrProblem(H264, input));   // refused before any encode

        var kept = await EncodeAsync(ffmpeg, clips.Hdr10, "kept.mkv", Hevc10, input);
        Assert.Equal((HdrKinds.Hdr10, "bt2020", "bt2020nc", "yuv420p10le"), (kept.Hdr, kept.ColorPrimaries, kept.ColorSpace, kept.PixelFormat));
        Assert.Equal((Hdr10.MasteringDisplay.X265, "1000,400"), (kept.MasteringDisplay?.X265, kept.ContentLightLevel));
        Assert.Null(QualityGate.StreamProblem(Hevc10, input, kept));

        var mapped = H264 with { Tonemap = ToneMaps.Sdr };
        var sdr = await EncodeAsync(ffmpeg, clips.Hdr10, "sdr.mp4", mapped, input);
        Assert.Equal((HdrKinds.None, "bt709", "bt709", "yuv420p"), (sdr.Hdr, sdr.ColorTransfer, sdr.ColorPrimaries, sdr.PixelFormat));
        Assert.Null(QualityGate.StreamProblem(mapped, input, sdr));
    }

    [Fact]
    public async Task EveryTrackChapterTagAndFontIsKeptInMatroskaAndWhatFitsInMp4()
    {
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));
        var input = await ffmpeg.ProbeAsync(clips.ManyTracks, CancellationToken.None);
        Assert.Equal((2, 2, 1, 3, "Many tracks"), (input.AudioStreams, input.SubtitleStreams, input.Attachments, input.Chapters, input.Title));
        var settings = H264 with { Audio = AudioCodecs.Copy };

        var mkv = await EncodeAsync(ffmpeg, clips.ManyTracks, "whole.mkv", settings with { Container = Containers.Mkv }, input);
        Assert.Null(QualityGate.StreamProblem(settings with { Container = Containers.Mkv }, input, mkv));
        Assert.Equal(Tracks(input), Tracks(mkv));
        Assert.Equal((1, 3, "Many tracks"), (mkv.Attachments, mkv.Chapters, mkv.Title));

        var mp4 = await EncodeAsync(ffmpeg, clips.ManyTracks, "whole.mp4", settings, input);
        Assert.Null(QualityGate.StreamProblem(settings, input, mp4));
        // MP4 keeps languages, the forced flag and the audio's default, not track titles; its subtitles are timed text; no fonts.
        Assert.Equal(["audio aac eng default", "audio aac jpn", "subtitle mov_text eng", "subtitle mov_text jpn forced"],
            mp4.Streams.Where(stream => stream.Kind is "audio" or "subtitle").Select(stream => $"{stream.Kind} {stream.Codec} {stream.Language}" +
                (stream.Default && stream.Kind == "audio" ? " default" : "") + (stream.Forced ? " forced" : "")));
        Assert.Equal((0, 3, "Many tracks"), (mp4.Attachments, mp4.Chapters, mp4.Title));
    }

    /// <summary>Each audio and subtitle track as "kind codec language title flags".</summary>
    private static IEnumerable<string> Tracks(ProbeResult probed) => probed.Streams.Where(stream => stream.Kind is "audio" or "subtitle")
        .Select(stream => $"{stream.Kind} {stream.Codec} {stream.Language} {stream.Title} {stream.Default} {stream.Forced}");

    private async Task<ProbeResult> EncodeAsync(Ffmpeg ffmpeg, string input, string name, EncodeSettings settings, ProbeResult probed)
    {
        var output = Path.Combine(clips.Folder, name);
        var outcome = await ffmpeg.EncodeAsync(EncodeArguments.Build(input, output, settings, probed), probed.DurationSeconds, _ => { }, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.LogTail);
        return await ffmpeg.ProbeAsync(output, CancellationToken.None);
    }

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];

    private static string Between(IReadOnlyList<string> args, string from, string to) =>
        string.Join(" ", args.SkipWhile(arg => arg != from).Skip(1).TakeWhile(arg => arg != to));

    public sealed class Clips : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("videoencode-keep-").FullName;
        public string Hdr10 => Path.Combine(Folder, "hdr10.mkv");
        public string ManyTracks => Path.Combine(Folder, "many-tracks.mkv");

        public async Task InitializeAsync()
        {
            await TestMedia.MakeHdr10ClipAsync(Hdr10);
            await TestMedia.MakeManyTracksClipAsync(ManyTracks);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }
}
