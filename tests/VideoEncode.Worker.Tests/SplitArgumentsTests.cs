using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker.Tests;

/// <summary>The split tasks' ffmpeg arguments, without ffmpeg: built from the same parts as a whole encode's.</summary>
public sealed class SplitArgumentsTests
{
    private static readonly EncodeSettings H264 = EncodeSettings.Defaults with { Crf = "23", Preset = "veryfast", MaxHeight = 720 };

    /// <summary>Video, audio eng (default) and jpn, subtitles eng and jpn (forced), chapters, a font.</summary>
    private static readonly ProbeResult ManyTracks = new(true, 10, "h264", "")
    {
        AudioStreams = 2, SubtitleCodecs = ["subrip", "subrip"], Chapters = 3,
        Streams =
        [
            new(0, "video", "h264"), new(1, "audio", "aac", "eng", Default: true), new(2, "audio", "aac", "jpn"),
            new(3, "subtitle", "subrip", "eng"), new(4, "subtitle", "subrip", "jpn", Forced: true), new(5, "attachment", "ttf"),
        ],
    };

    private static readonly ProbeResult VideoOnly = new(true, 10, "h264", "") { Streams = [new(0, "video", "h264")] };

    [Fact]
    public void AChunkIsTheWholeEncodesVideoAloneFromHalfAFrameBeforeItsKeyframeForItsFrames()
    {
        var chunk = SplitArguments.Chunk("in.mkv", "chunk.mkv", H264, ManyTracks, 10, 20, 250);

        Assert.Equal([
            "-hide_banner", "-nostdin", "-y", "-ss", "9.98", "-protocol_whitelist", "file", "-i", "file:in.mkv",
            "-map", "0:v:0", "-frames:v", "250", "-an", "-sn", "-dn", "-map_chapters", "-1",
            "-vf", "setpts=PTS-STARTPTS,scale=-2:'trunc(min(ih,720)/2)*2'", "-c:v", "libx264", "-crf", "23", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-progress", "pipe:1", "-nostats", "-f", "matroska", "chunk.mkv"], chunk);
        // The whole encode's video options are the same, but for the chunk's first filter.
        var whole = EncodeArguments.Build("in.mkv", "out.mp4", H264, ManyTracks);
        Assert.Equal(Between(whole, "-c:v", "-c:a"), Between(chunk, "-c:v", "-progress"));
        Assert.Equal("scale=-2:'trunc(min(ih,720)/2)*2'", whole[whole.ToList().IndexOf("-vf") + 1]);
    }

    [Fact]
    public void AChunkAtTheStartIsNotSeekedAndACopiedVideoIsNotChunked()
    {
        Assert.DoesNotContain("-ss", SplitArguments.Chunk("in.mkv", "chunk.mkv", H264, ManyTracks, 0, 10, 250));
        Assert.Null(SplitArguments.SeekSeconds(0.01, 10, 250));
        Assert.Equal(0.1 - 0.02, SplitArguments.SeekSeconds(0.1, 10.1, 250)!.Value, 9);
        Assert.Throws<ArgumentException>(() => SplitArguments.Chunk("in.mkv", "chunk.mkv", H264 with { VideoCodec = VideoCodecs.Copy, Encoder = null }, ManyTracks, 0, 10, 250));
    }

    [Fact]
    public void TheRestIsEveryKeptTrackButTheVideoWithItsFlagsInTheJobsContainer()
    {
        var mkv = H264 with { Container = Containers.Mkv, Audio = AudioCodecs.Opus };
        Assert.Equal("audio.mkv", SplitArguments.RestFile(mkv, ManyTracks));
        Assert.Equal([
            "-hide_banner", "-nostdin", "-y", "-protocol_whitelist", "file", "-i", "file:in.mkv",
            "-map", "0:1", "-map", "0:2", "-map", "0:3", "-map", "0:4", "-map", "0:5",
            "-disposition:0", "default", "-disposition:1", "0", "-disposition:2", "0", "-disposition:3", "forced",
            "-c:a", "libopus", "-af", "aformat=channel_layouts=7.1|5.1|stereo|mono", "-c:s", "copy",
            "-progress", "pipe:1", "-nostats", "-f", "matroska", "audio.mkv"], SplitArguments.Rest("in.mkv", "audio.mkv", mkv, ManyTracks));

        // MP4: no font; subtitles as timed text; today's encode sets no flags.
        var mp4 = SplitArguments.Rest("in.mkv", "audio.mp4", H264, ManyTracks);
        Assert.Equal("-map 0:1 -map 0:2 -map 0:3 -map 0:4 -disposition:0 default -disposition:1 0 -disposition:2 0 -disposition:3 forced -c:a aac -c:s mov_text -movflags +faststart",
            Between(mp4, "file:in.mkv", "-progress"));
        var legacy = SplitArguments.Rest("in.mkv", "audio.mp4", EncodeSettings.Legacy("23", "fast"), ManyTracks);
        Assert.Equal("-map 0:1 -map 0:2 -c:a aac -movflags +faststart", Between(legacy, "file:in.mkv", "-progress"));
    }

    [Fact]
    public void AnInputThatKeepsNothingButVideoHasItsChaptersAndTagsCarriedInAMetadataFile()
    {
        Assert.Equal(SplitArguments.MetadataFile, SplitArguments.RestFile(H264, VideoOnly));
        Assert.Equal(["-hide_banner", "-nostdin", "-y", "-protocol_whitelist", "file", "-i", "file:in.mkv", "-progress", "pipe:1", "-nostats",
            "-f", "ffmetadata", "metadata.txt"], SplitArguments.Rest("in.mkv", "metadata.txt", H264, VideoOnly));
    }

    [Fact]
    public void TheJoinCopiesTheChunksAndTheRestInTheWholeEncodesOrderWithItsFlagsTagAndIndex()
    {
        var hevc = H264 with { VideoCodec = VideoCodecs.Hevc, Encoder = "libx265" };
        Assert.Equal([
            "-hide_banner", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", "file:chunks.txt",
            "-protocol_whitelist", "file", "-i", "file:audio.mp4",
            "-map", "0:v:0", "-map", "1:a?", "-map", "1:s?", "-map", "1:t?", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy",
            "-disposition:1", "default", "-disposition:2", "0", "-disposition:3", "0", "-disposition:4", "forced",
            "-tag:v", "hvc1", "-movflags", "+faststart", "-progress", "pipe:1", "-nostats", "-f", "mp4", "output.mp4"],
            SplitArguments.Join("chunks.txt", "audio.mp4", "output.mp4", hevc, ManyTracks));
        // The whole encode flags the same streams the same way.
        var whole = EncodeArguments.Build("in.mkv", "out.mp4", hevc, ManyTracks);
        Assert.Equal(whole.Where(arg => arg.StartsWith("-disposition", StringComparison.Ordinal)),
            SplitArguments.Join("chunks.txt", "audio.mp4", "output.mp4", hevc, ManyTracks).Where(arg => arg.StartsWith("-disposition", StringComparison.Ordinal)));
    }

    [Fact]
    public void AJobThatCannotBeSplitOrCannotRunAsAskedFailsAtItsPlan()
    {
        Assert.Null(PlanWork.Unsplittable(H264, ManyTracks));
        Assert.StartsWith("its video is copied", PlanWork.Unsplittable(H264 with { VideoCodec = VideoCodecs.Copy, Encoder = null }, ManyTracks));
        var pictures = ManyTracks with { SubtitleCodecs = ["hdmv_pgs_subtitle"], Streams = [new(0, "video", "h264"), new(1, "subtitle", "hdmv_pgs_subtitle")] };
        Assert.Contains("are pictures", PlanWork.Unsplittable(H264, pictures));
    }

    [Fact]
    public void TheChunkListQuotesEveryPathAndRefusesControlCharacters()
    {
        Assert.Equal("ffconcat version 1.0\nfile 'file:/w/a/chunk.mkv'\nfile 'file:/w/it'\\''s b/chunk.mkv'\n",
            SplitArguments.ConcatList(["/w/a/chunk.mkv", "/w/it's b/chunk.mkv"]));
        Assert.Null(SplitArguments.ConcatList(["/w/a\nfile '/etc/passwd'"]));
    }

    private static string Between(IReadOnlyList<string> args, string from, string to) =>
        string.Join(" ", args.SkipWhile(arg => arg != from).Skip(1).TakeWhile(arg => arg != to));
}
