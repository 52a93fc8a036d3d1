using System.Text;
using System.Text.RegularExpressions;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// Reads and mends the master playlist ffmpeg's HLS muxer writes. ffmpeg 5.1 lists the shared audio rendition a
/// second time as an audio-only variant (no RESOLUTION), which a player short of bandwidth may pick and show no
/// picture: it is taken out (the audio stays, as the group the video variants name). And it writes CODECS only
/// when it can read the profile from the stream's header (Annex B H.264, AAC); a variant without one gets it here,
/// from its init segment's avcC box.
/// </summary>
public static partial class HlsMaster
{
    private const string StreamInf = "#EXT-X-STREAM-INF:";

    /// <summary>One variant: its playlist's URI and its attributes (BANDWIDTH, RESOLUTION, CODECS without their quotes).</summary>
    public sealed record Variant(string Uri, IReadOnlyDictionary<string, string> Attributes);

    /// <summary>The variants a master playlist lists, in its order.</summary>
    public static IReadOnlyList<Variant> Variants(string master)
    {
        var lines = Lines(master);
        List<Variant> variants = [];
        for (var index = 0; index < lines.Count; index++)
            if (lines[index].StartsWith(StreamInf, StringComparison.Ordinal) && UriAfter(lines, index) is { } uri)
                variants.Add(new Variant(lines[uri], Attributes(lines[index][StreamInf.Length..])));
        return variants;
    }

    /// <summary>
    /// The playlist without audio-only variants, and with CODECS on every video variant: <paramref name="videoCodec"/> of
    /// its URI ("avc1.64001f"; null when unknown, which leaves the variant as it was), then <paramref name="audioCodec"/>
    /// when the variants play with audio.
    /// </summary>
    public static string Patch(string master, Func<string, string?> videoCodec, string? audioCodec)
    {
        var lines = Lines(master);
        var output = new StringBuilder();
        for (var index = 0; index < lines.Count; index++)
        {
            var line = lines[index];
            if (line.StartsWith(StreamInf, StringComparison.Ordinal) && UriAfter(lines, index) is { } uri)
            {
                var attributes = Attributes(line[StreamInf.Length..]);
                if (!attributes.ContainsKey("RESOLUTION"))
                {
                    // The variant goes with the blank line ffmpeg writes after it.
                    index = uri + 1 < lines.Count && lines[uri + 1].Length == 0 ? uri + 1 : uri;
                    continue;
                }
                if (!attributes.ContainsKey("CODECS") && videoCodec(lines[uri]) is { } codec)
                    line += $",CODECS=\"{string.Join(',', audioCodec is null ? [codec] : new[] { codec, audioCodec })}\"";
            }
            output.Append(line).Append('\n');
        }
        return output.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>
    /// The RFC 6381 name of an H.264 stream from its MP4 init segment: "avc1." and the profile, constraint flags and level
    /// bytes of its avcC box (what ffmpeg itself writes from an Annex B header); null when there is no avcC box.
    /// </summary>
    public static string? AvcCodec(ReadOnlySpan<byte> init)
    {
        // The box's payload: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication.
        var at = init.IndexOf("avcC"u8);
        return at < 0 || at + 8 > init.Length ? null : $"avc1.{init[at + 5]:x2}{init[at + 6]:x2}{init[at + 7]:x2}";
    }

    /// <summary>The URI an #EXT-X-MAP line of a media playlist names (its init segment), or null.</summary>
    public static string? InitSegment(string playlist) =>
        Lines(playlist).FirstOrDefault(line => line.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal)) is { } map
            ? Attributes(map["#EXT-X-MAP:".Length..]).GetValueOrDefault("URI") : null;

    private static List<string> Lines(string text) => [.. text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n')];

    /// <summary>The index of the URI line a tag line belongs to: the next line that is neither blank nor a tag.</summary>
    private static int? UriAfter(List<string> lines, int tag)
    {
        for (var index = tag + 1; index < lines.Count; index++)
        {
            if (lines[index].Length == 0) continue;
            return lines[index].StartsWith('#') ? null : index;
        }
        return null;
    }

    private static Dictionary<string, string> Attributes(string list) =>
        AttributePattern().Matches(list).ToDictionary(match => match.Groups["name"].Value, match => match.Groups["value"].Value.Trim('"'));

    /// <summary>NAME=value pairs of an attribute list, where a quoted value may hold commas (CODECS="avc1.64001f,mp4a.40.2").</summary>
    [GeneratedRegex("(?<name>[A-Z0-9-]+)=(?<value>\"[^\"]*\"|[^,]*)")]
    private static partial Regex AttributePattern();
}
