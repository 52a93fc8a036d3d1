using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker.Tests;

/// <summary>Where a split job's input is cut, from its packets alone; how ffprobe's packet lines are read; what a join's video is held to.</summary>
public sealed class SplitPlannerTests
{
    /// <summary>
    /// <paramref name="seconds"/> of 25 fps video in decoding order, as x264 writes it with B-frames: each keyframe, then
    /// groups of a P-frame and the two B-frames shown before it. Keyframes every <paramref name="keyEvery"/> frames.
    /// </summary>
    private static List<(double Pts, bool Key)> Packets(int seconds, int keyEvery, double start = 0)
    {
        var frames = seconds * 25;
        var order = new List<int>();
        for (var gop = 0; gop < frames; gop += keyEvery)
        {
            var end = Math.Min(gop + keyEvery, frames);
            order.Add(gop);
            for (var p = gop + 3; p < end + 2; p += 3)
            {
                var shown = Math.Min(p, end - 1);
                order.Add(shown);
                for (var b = p - 2; b < shown; b++) order.Add(b);
            }
        }
        Assert.Equal(Enumerable.Range(0, frames), order.Order());
        return [.. order.Select(frame => (start + frame * 0.04, frame % keyEvery == 0))];
    }

    [Fact]
    public void AClipIsCutAtItsKeyframesAboutEverySplitSecondsWithEveryFrameInExactlyOneChunk()
    {
        var plan = SplitPlanner.Plan(Packets(24, keyEvery: 250), 0, 10);

        Assert.Equal([new ChunkCut(0, 10, 250), new ChunkCut(10, 20, 250), new ChunkCut(20, 24, 100)], plan.Chunks);
    }

    [Fact]
    public void TimesCountFromTheFilesStartAndTheKeyframeNearestTheTargetIsTaken()
    {
        // Keyframes every 3 s: the targets 10 and 19 (from the cut at 9) are nearest 9 and 18.
        var plan = SplitPlanner.Plan(Packets(30, keyEvery: 75, start: 1.4), 1.4, 10);

        Assert.Equal([0.0, 9, 18, 27], plan.Chunks.Select(chunk => chunk.StartSeconds));
        Assert.Equal([9.0, 18, 27, 30], plan.Chunks.Select(chunk => chunk.EndSeconds));
        Assert.Equal(750, plan.Chunks.Sum(chunk => chunk.Frames));
    }

    [Fact]
    public void AClipWithNoKeyframeInsideIsOneChunkAndFramesBeforeTheFirstKeyframeAreLeftOut()
    {
        var packets = Packets(30, keyEvery: 750);
        Assert.Equal([new ChunkCut(0, 30, 750)], SplitPlanner.Plan(packets, 0, 10).Chunks);

        // Two leading frames no decoder shows (shown before the first keyframe, decoded after it).
        List<(double, bool)> leading = [(1.0, true), (0.92, false), (0.96, false), .. packets.Skip(1).Select(packet => (packet.Pts + 1, packet.Key))];
        Assert.Equal([new ChunkCut(1, 31, 750)], SplitPlanner.Plan(leading, 0, 10).Chunks);

        Assert.Throws<ArgumentException>(() => SplitPlanner.Plan([(0, false), (0.04, false)], 0, 10));
    }

    [Fact]
    public void AFileThatWouldMakeTooManyChunksGetsLongerOnes()
    {
        // 3,000 s with a keyframe every second, asked in 1-second chunks: 3,000 would be too many.
        var packets = Packets(3000, keyEvery: 25);
        var plan = SplitPlanner.Plan(packets, 0, 1);

        Assert.InRange(plan.Chunks.Count, SplitPlan.MaxChunks / 2, SplitPlan.MaxChunks);
        Assert.Equal(packets.Count, plan.Chunks.Sum(chunk => chunk.Frames));
        Assert.All(plan.Chunks.Zip(plan.Chunks.Skip(1)), pair => Assert.Equal(pair.First.EndSeconds, pair.Second.StartSeconds));
        Assert.All(plan.Chunks, chunk => Assert.Equal(0, Math.Round(chunk.StartSeconds * 1e6) % 1_000_000));   // on a keyframe
    }

    [Fact]
    public void TheSpanOfAVideoRunsFromItsFirstKeyframeToTheEndOfItsLastFrame()
    {
        Assert.Equal((600L, 24.0), Rounded(SplitPlanner.Span(Packets(24, keyEvery: 250))));
        Assert.Equal((0L, 0.0), SplitPlanner.Span([(0, false)]));
    }

    [Fact]
    public void PacketLinesGiveTimesKeyframesTheStartAndUntimedPackets()
    {
        Assert.Equal(new VideoPacket(10, true), Ffmpeg.ReadPacketLine("packet,10.000000,K_").Packet);
        Assert.Equal(new VideoPacket(0.04, false), Ffmpeg.ReadPacketLine("packet,0.040000,__").Packet);
        Assert.Equal(1.4, Ffmpeg.ReadPacketLine("format,1.400000").StartTime);
        Assert.Equal(0, Ffmpeg.ReadPacketLine("format,N/A").StartTime);
        Assert.True(Ffmpeg.ReadPacketLine("packet,N/A,K_").Untimed);
        Assert.Equal(default, Ffmpeg.ReadPacketLine("side_data,whatever"));
        Assert.Equal(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags:format=start_time", "-of", "csv",
            "-protocol_whitelist", "file", "-i", "file:a b.mkv"], Ffmpeg.PacketArguments("a b.mkv"));
    }

    [Fact]
    public void AJoinedVideoMustHaveItsChunksFramesTheInputsAndItsLengthWithinAFrame()
    {
        Assert.Null(JoinWork.FramesProblem((600, 24.0), 600, (600, 24.0)));
        Assert.Null(JoinWork.FramesProblem((600, 24.04), 600, (600, 24.0)));
        Assert.Equal("it has 599 video frames where its chunks have 600", JoinWork.FramesProblem((599, 24.0), 600, (600, 24.0)));
        Assert.Equal("it has 600 video frames where the input has 601", JoinWork.FramesProblem((600, 24.0), 600, (601, 24.0)));
        Assert.Equal("its video lasts 24.1 s where the input's lasts 24 s, more than a frame (0.04 s) apart",
            JoinWork.FramesProblem((600, 24.1), 600, (600, 24.0)));
    }

    private static (long, double) Rounded((long Frames, double Seconds) span) => (span.Frames, Math.Round(span.Seconds, 6));
}
