using System.Text;

namespace VideoEncode.Worker.Media;

/// <summary>
/// An input must be one media file. ffmpeg also reads playlists (HLS, DASH) and concat lists,
/// whose entries name other files anywhere on the disk, and the file protocol that inputs need
/// is all such an entry needs: a playlist named "video.mp4" dropped in the input folder would
/// have the worker encode, into the output folder, a file it was never meant to read. So a
/// playlist is refused twice: by its first bytes, before ffprobe opens it, and by the format
/// ffprobe finds, for one dressed well enough to pass the first look.
/// </summary>
public static class Playlists
{
    /// <summary>How much of the file the first look reads: ffmpeg's own probes look at as much.</summary>
    public const int SniffBytes = 4096;

    /// <summary>ffmpeg's demuxers that open the files a playlist names ("applehttp" is hls's old name).</summary>
    private static readonly string[] Formats = ["hls", "applehttp", "concat", "dash"];

    /// <summary>What playlist these first bytes begin, said as a reason ("it begins like …"), or null when none.</summary>
    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        var start = head.StartsWith("\uFEFF"u8) ? head[3..] : head;
        start = start.TrimStart(" \t\r\n"u8);
        if (StartsWithIgnoringCase(start, "#EXTM3U")) return "it begins like an HLS playlist (#EXTM3U)";
        if (StartsWithIgnoringCase(start, "ffconcat version")) return "it begins like an ffconcat playlist";
        if (start.StartsWith("<"u8) && Encoding.Latin1.GetString(start).Contains("<MPD", StringComparison.OrdinalIgnoreCase))
            return "it is a DASH playlist (an XML <MPD> manifest)";
        return null;
    }

    /// <summary>Reads the file's first bytes and says what playlist they begin; null also when it cannot be read (ffprobe will say why).</summary>
    public static Task<string?> SniffFileAsync(string path) => Task.Run(() =>
    {
        try
        {
            using var file = File.OpenRead(path);
            var head = new byte[SniffBytes];
            return Sniff(head.AsSpan(0, file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    });

    /// <summary>The playlist format in ffprobe's format_name ("hls", or a list like "mov,mp4,m4a"), or null.</summary>
    public static string? Format(string? formatName) =>
        formatName?.Split(',', StringSplitOptions.TrimEntries).FirstOrDefault(name => Formats.Contains(name, StringComparer.OrdinalIgnoreCase));

    private static bool StartsWithIgnoringCase(ReadOnlySpan<byte> text, string prefix) =>
        text.Length >= prefix.Length && Encoding.ASCII.GetString(text[..prefix.Length]).Equals(prefix, StringComparison.OrdinalIgnoreCase);
}
