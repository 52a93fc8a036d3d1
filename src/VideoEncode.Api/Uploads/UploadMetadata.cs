using System.Text;
using System.Text.RegularExpressions;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// The tus Upload-Metadata header: comma-separated pairs of a key (no spaces or commas, not empty, unique)
/// and an optional base64 value. Validating it whole also makes the header safe to answer again on HEAD.
/// The host reads two keys: <see cref="Tus.FileNameKey"/>, made into a safe file name, and
/// <see cref="Tus.FileTypeKey"/>, kept when it reads as a media type.
/// </summary>
public sealed partial record UploadMetadata(string FileName, string? ContentType)
{
    /// <summary>The name an upload gets when it sends none (or one with nothing usable left).</summary>
    public const string DefaultFileName = "upload";

    public const int MaxHeaderLength = 8 * 1024;
    public const int MaxFileNameLength = 255;

    /// <summary>The metadata of <paramref name="header"/> (null or empty: none), or why it is malformed.</summary>
    public static (UploadMetadata? Metadata, string? Problem) Parse(string? header)
    {
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(header))
        {
            if (header.Length > MaxHeaderLength) return (null, $"Upload-Metadata must be at most {MaxHeaderLength} characters.");
            foreach (var pair in header.Split(','))
            {
                var parts = pair.Trim().Split(' ');
                var key = parts[0];
                if (parts.Length > 2 || !KeyPattern().IsMatch(key))
                    return (null, $"Upload-Metadata: '{Shown(pair)}' is not a pair of a key (printable ASCII, no spaces or commas) and a base64 value.");
                var value = parts.Length == 2 ? parts[1] : "";
                var bytes = new byte[value.Length];
                if (!Convert.TryFromBase64String(value, bytes, out var length))
                    return (null, $"Upload-Metadata: the value of '{key}' is not base64.");
                if (!values.TryAdd(key, bytes[..length])) return (null, $"Upload-Metadata: the key '{key}' appears twice.");
            }
        }
        var fileName = values.TryGetValue(Tus.FileNameKey, out var name) ? SafeFileName(Decode(name)) : DefaultFileName;
        var contentType = values.TryGetValue(Tus.FileTypeKey, out var type) && Decode(type).Trim() is var text && MediaType().IsMatch(text)
            ? text.ToLowerInvariant()
            : null;
        return (new UploadMetadata(fileName, contentType), null);
    }

    /// <summary>
    /// A plain file name from whatever a client called its file: the last path segment (either separator),
    /// without control or invisible characters, with '_' for the characters Windows refuses in names (a
    /// worker may run there; "C:x" would read as a drive), trimmed of spaces and trailing dots, at most
    /// <see cref="MaxFileNameLength"/> characters; <see cref="DefaultFileName"/> when nothing is left.
    /// It passes <see cref="FileNames.Problem"/>, so it can serve as a job's file_name as it is.
    /// </summary>
    public static string SafeFileName(string name)
    {
        var lastSegment = name.Replace('\\', '/').Split('/')[^1];
        var kept = new string(lastSegment.Where(c => !char.IsControl(c) && !FileNames.IsInvisible(c))
            .Select(c => WindowsReserved.Contains(c) ? '_' : c).ToArray());
        // Cut at the limit, but never between the two halves of a surrogate pair.
        if (kept.Length > MaxFileNameLength) kept = kept[..(char.IsHighSurrogate(kept[MaxFileNameLength - 1]) ? MaxFileNameLength - 1 : MaxFileNameLength)];
        kept = kept.Trim().TrimEnd('.', ' ');
        return kept.Length == 0 ? DefaultFileName : kept;
    }

    private const string WindowsReserved = "<>:\"|?*";

    private static string Decode(byte[] value) => Encoding.UTF8.GetString(value);

    private static string Shown(string text) => text.Length <= 40 ? text.Trim() : text.Trim()[..40] + "…";

    [GeneratedRegex(@"^[\x21-\x2B\x2D-\x7E]+$")]
    private static partial Regex KeyPattern();

    /// <summary>type/subtype in RFC 6838's characters, no parameters.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")]
    private static partial Regex MediaType();
}
