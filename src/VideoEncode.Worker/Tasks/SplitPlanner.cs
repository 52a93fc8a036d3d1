using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// Where a split job's input is cut (<see cref="SplitPlan"/>), from its first video stream's packets: each chunk starts
/// at a keyframe, the keyframe nearest to about <c>splitSeconds</c> after the chunk before's; chunks follow each other
/// without a gap, and every frame from the first keyframe on is in exactly one, the one its presentation time falls in.
/// </summary>
public static class SplitPlanner
{
    /// <summary>
    /// The plan for <paramref name="packets"/> (presentation times in the file's clock, in any order: B-frames come out
    /// of order) of a file starting at <paramref name="startTime"/>, in chunks of about <paramref name="splitSeconds"/>,
    /// or longer when that would make more than <see cref="SplitPlan.MaxChunks"/>. Times are from the file's start, as
    /// ffmpeg's -ss counts. Frames before the first keyframe are left out: no decoder shows them, and a whole encode has
    /// none of them either. Throws when there is no keyframe at all.
    /// </summary>
    public static SplitPlan Plan(IReadOnlyList<(double Pts, bool Key)> packets, double startTime, int splitSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(splitSeconds, 1);
        var sorted = packets.Select(packet => (Pts: packet.Pts - startTime, packet.Key)).OrderBy(packet => packet.Pts).ToList();
        var first = sorted.FindIndex(packet => packet.Key);
        if (first < 0) throw new ArgumentException("The video has no keyframe: no chunk can start anywhere.", nameof(packets));
        var frames = sorted[first..].Select(packet => packet.Pts).ToList();
        var keys = sorted[first..].Where(packet => packet.Key).Select(packet => packet.Pts).Distinct().ToList();
        var end = frames[^1] + FrameSeconds(frames);
        // A file too long for MaxChunks chunks of the asked length gets longer ones, as few longer as will do.
        var seconds = Math.Max(splitSeconds, (end - keys[0]) / SplitPlan.MaxChunks);
        while (true)
        {
            var cuts = Cuts(keys, seconds, end);
            if (cuts.Count <= SplitPlan.MaxChunks) return new SplitPlan(Chunks(frames, cuts, end));
            seconds *= 1.1;
        }
    }

    /// <summary>
    /// How many frames a file's video shows and for how long (<paramref name="packets"/> as <see cref="Plan"/> takes them):
    /// from the first keyframe to the end of the last frame, which lasts as long as a typical one. What a plan cuts, and
    /// what a join's result is held to.
    /// </summary>
    public static (long Frames, double Seconds) Span(IReadOnlyList<(double Pts, bool Key)> packets)
    {
        var sorted = packets.OrderBy(packet => packet.Pts).ToList();
        var first = sorted.FindIndex(packet => packet.Key);
        if (first < 0) return (0, 0);
        var frames = sorted[first..].Select(packet => packet.Pts).ToList();
        return (frames.Count, frames[^1] + FrameSeconds(frames) - frames[0]);
    }

    /// <summary>The typical time between frames: the median step between consecutive presentation times (0 for a single frame).</summary>
    public static double FrameSeconds(IReadOnlyList<double> sorted)
    {
        var steps = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Where(step => step > 0).Order().ToList();
        return steps.Count == 0 ? 0 : steps[steps.Count / 2];
    }

    /// <summary>
    /// The chunks' starts: the first keyframe, then each time the keyframe nearest to <paramref name="seconds"/> after the
    /// last cut, while more than <paramref name="seconds"/> remain before <paramref name="end"/>.
    /// </summary>
    private static List<double> Cuts(List<double> keys, double seconds, double end)
    {
        List<double> cuts = [keys[0]];
        var next = 1;
        while (next < keys.Count && cuts[^1] + seconds < end)
        {
            var target = cuts[^1] + seconds;
            // Keys are in order: walk on while the following one is at least as near the target.
            while (next + 1 < keys.Count && Math.Abs(keys[next + 1] - target) <= Math.Abs(keys[next] - target)) next++;
            cuts.Add(keys[next]);
            next++;
        }
        return cuts;
    }

    /// <summary>Each cut to the next (the last to <paramref name="end"/>), with the frames whose time falls in it.</summary>
    private static List<ChunkCut> Chunks(List<double> frames, List<double> cuts, double end)
    {
        var chunks = new List<ChunkCut>(cuts.Count);
        var frame = 0;
        for (var i = 0; i < cuts.Count; i++)
        {
            var until = i + 1 < cuts.Count ? cuts[i + 1] : double.PositiveInfinity;
            var count = 0L;
            for (; frame < frames.Count && frames[frame] < until; frame++) count++;
            chunks.Add(new ChunkCut(Round(cuts[i]), Round(i + 1 < cuts.Count ? until : end), count));
        }
        return chunks;
    }

    /// <summary>Microseconds, as ffprobe prints times: the plan shows no float noise, and -ss reads it back as it was.</summary>
    private static double Round(double seconds) => Math.Round(seconds, 6);
}
