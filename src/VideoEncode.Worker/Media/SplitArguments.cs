using System.Globalization;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>
/// The ffmpeg arguments of a split job's tasks (<see cref="TaskKinds"/>), built from the same parts as a whole encode's
/// (<see cref="EncodeArguments"/>): a chunk is that encode's video alone, over a stretch of the input; the rest is its
/// audio, subtitles, attachments, chapters and tags; the join copies both into the job's container.
/// </summary>
public static class SplitArguments
{
    /// <summary>
    /// A chunk's file. Matroska holds every video codec the encoders make, and keeps a chunk's timestamps from 0 with
    /// its duration to the end of its last frame, which is what the concat demuxer lays the next chunk after.
    /// </summary>
    public const string ChunkFile = "chunk.mkv";

    /// <summary>The rest's file when the job keeps nothing of the input but its video: its chapters and global tags alone, in ffmpeg's metadata format.</summary>
    public const string MetadataFile = "metadata.txt";

    /// <summary>The join's list of chunks, for the concat demuxer.</summary>
    public const string ChunkListFile = "chunks.txt";

    /// <summary>
    /// The video of <paramref name="frames"/> frames from <paramref name="startSeconds"/> (a keyframe, counted from the
    /// input's start) and nothing else, encoded as the job asks. The input is opened half a frame before the keyframe,
    /// so that however its time was rounded the keyframe is the first frame kept and the one before it is not (ffmpeg
    /// decodes from the keyframe before and drops what precedes the position, and adds the file's start time itself);
    /// -frames:v stops at the chunk's last frame; setpts starts the chunk at 0, so the concat demuxer lays each chunk
    /// right after the one before. A chunk at the very start is not seeked at all.
    /// </summary>
    public static IReadOnlyList<string> Chunk(string input, string output, EncodeSettings settings, ProbeResult probed,
        double startSeconds, double endSeconds, long frames)
    {
        var encoder = EncodeArguments.EncoderOf(settings)
            ?? throw new ArgumentException("A copied video is not split: there is nothing to encode in chunks.", nameof(settings));
        List<string> args = EncodeArguments.Head(encoder);
        if (SeekSeconds(startSeconds, endSeconds, frames) is { } seek) args.AddRange(["-ss", seek.ToString("0.######", CultureInfo.InvariantCulture)]);
        args.AddRange(Ffmpeg.InputArguments(input));
        // The video stream's own tags (language, title) go along, and through the join; chapters are the rest's.
        args.AddRange(["-map", "0:v:0", "-frames:v", frames.ToString(CultureInfo.InvariantCulture), "-an", "-sn", "-dn", "-map_chapters", "-1"]);
        args.AddRange(EncodeArguments.VideoOptions(encoder, settings, probed, ["setpts=PTS-STARTPTS"]));
        args.AddRange(EncodeArguments.Tail(Containers.Mkv, output));
        return args;
    }

    /// <summary>Where a chunk's input is opened: half its average frame before its start; null at the input's first frame.</summary>
    public static double? SeekSeconds(double startSeconds, double endSeconds, long frames)
    {
        var seek = startSeconds - (frames > 0 ? (endSeconds - startSeconds) / frames / 2 : 0);
        return seek > 0 ? seek : null;
    }

    /// <summary>The input's streams the rest carries: what the job keeps (<see cref="EncodeArguments.Kept"/>) but the video, in the same order.</summary>
    public static IReadOnlyList<ProbedStream> RestStreams(EncodeSettings settings, ProbeResult probed) =>
        EncodeArguments.Kept(settings, probed).Where(stream => stream.Kind != "video").ToList();

    /// <summary>The rest's file name: "audio" in the job's container, or <see cref="MetadataFile"/> when it carries no stream.</summary>
    public static string RestFile(EncodeSettings settings, ProbeResult probed) =>
        RestStreams(settings, probed).Count > 0 ? "audio" + FileNames.OutputExtension(settings.Container) : MetadataFile;

    /// <summary>
    /// Everything of the input the job keeps but its video, once: audio encoded as the job asks, subtitles, attachments,
    /// chapters and global tags, in the job's container so that the join copies them as they are. An input that keeps
    /// nothing but video still has chapters and tags to carry: those go into an ffmetadata file (no container holds no stream).
    /// </summary>
    public static IReadOnlyList<string> Rest(string input, string output, EncodeSettings settings, ProbeResult probed)
    {
        var streams = RestStreams(settings, probed);
        List<string> args = [.. EncodeArguments.Head(null), .. Ffmpeg.InputArguments(input)];
        if (streams.Count == 0) return [.. args, "-progress", "pipe:1", "-nostats", "-f", "ffmetadata", output];
        args.AddRange(EncodeArguments.Mapped(settings, streams));
        args.AddRange(EncodeArguments.AudioOptions(settings));
        args.AddRange(EncodeArguments.SubtitleOptions(settings, probed));
        args.AddRange(EncodeArguments.Tail(settings.Container, output));
        return args;
    }

    /// <summary>
    /// The chunks (listed in <paramref name="chunkList"/>, <see cref="ConcatList"/>) and the rest copied into the job's
    /// output: the video first, then the rest's audio, subtitles and attachments in the order the whole encode has them,
    /// with their flags, and the rest's chapters and global tags. Nothing is encoded again.
    /// </summary>
    public static IReadOnlyList<string> Join(string chunkList, string rest, string output, EncodeSettings settings, ProbeResult input)
    {
        List<string> args = [.. EncodeArguments.Head(null), "-f", "concat", "-safe", "0", .. Ffmpeg.InputArguments(chunkList),
            .. Ffmpeg.InputArguments(rest),
            "-map", "0:v:0", "-map", "1:a?", "-map", "1:s?", "-map", "1:t?", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy"];
        args.AddRange(EncodeArguments.Dispositions(settings, EncodeArguments.Kept(settings, input)));
        args.AddRange(EncodeArguments.HevcTag(settings, EncodeArguments.OutputVideoCodec(settings, input.VideoCodec)));
        args.AddRange(EncodeArguments.Tail(settings.Container, output));
        return args;
    }

    /// <summary>
    /// The concat demuxer's list of <paramref name="chunks"/> (absolute paths, in order), each quoted as its parser reads
    /// quotes ("'" ends a quote, "\'" is a quote, then a new one opens); null when a path holds a control character,
    /// which a line of the list cannot carry.
    /// </summary>
    public static string? ConcatList(IEnumerable<string> chunks)
    {
        var list = new StringBuilder("ffconcat version 1.0\n");
        foreach (var chunk in chunks)
        {
            if (chunk.Any(char.IsControl)) return null;
            list.Append("file 'file:").Append(Path.GetFullPath(chunk).Replace("'", @"'\''", StringComparison.Ordinal)).Append("'\n");
        }
        return list.ToString();
    }
}
