using System.Text.RegularExpressions;

namespace VideoEncode.Contracts;

/// <summary>
/// The rule for a job's file_name and output_name, shared by the host (which refuses bad names at
/// enqueue) and the worker (which checks again before touching the disk): a plain relative path
/// inside a media root, that reads the same on every file system and to every eye.
/// </summary>
public static partial class FileNames
{
    public const int MaxLength = 1024;

    /// <summary>The extension of an output in <paramref name="container"/> (<see cref="Containers"/>): ".mp4", ".mkv", ".webm".</summary>
    public static string OutputExtension(string container) => "." + container;

    /// <summary>Why <paramref name="fileName"/> is unsafe, or null when it is a plain relative path.</summary>
    public static string? Problem(string fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName)) return "must not be empty";
        if (fileName.Length > MaxLength) return $"must be at most {MaxLength} characters";
        if (fileName.Any(char.IsControl)) return "must not contain control characters";
        // Zero-width and bidirectional-override characters make a name show as something it is not
        // ("evil\u202Evkm.mp4" reads as "evil4pm.mkv").
        if (fileName.Any(IsInvisible)) return "must not contain invisible or bidirectional-override characters (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069)";
        if (fileName[0] is '/' or '\\' || DriveLetter().IsMatch(fileName))
            return "must be a relative path inside the media root, not an absolute path";
        // Both separators count: a worker may run on Windows, where '\' separates folders.
        var segments = fileName.Split('/', '\\');
        if (segments.Any(segment => segment == "..")) return "must not contain '..' segments";
        if (segments.Any(segment => segment == ".")) return "must not contain '.' segments";
        if (segments[^1].Length == 0) return "must name a file, not a folder";
        // Windows drops a trailing dot or space, so "a." and "a" would be one file there.
        if (segments.Any(segment => segment.EndsWith('.') || segment.EndsWith(' ')))
            return "must not have a folder or file name that ends in a dot or a space";
        return null;
    }

    /// <summary>Why <paramref name="outputName"/> cannot be the output of a job writing <paramref name="container"/>, or null when it can.</summary>
    public static string? OutputProblem(string outputName, string container) =>
        Problem(outputName) ?? (outputName.EndsWith(OutputExtension(container), StringComparison.OrdinalIgnoreCase)
            ? null
            : $"must end in {OutputExtension(container)} (the job's container is {container})");

    /// <summary>
    /// The output a job gets when its request names none: the input's relative path with its
    /// extension replaced by the container's ("shows/ep1.mkv" -> "shows/ep1.mp4"), with '/' as the separator.
    /// </summary>
    public static string DefaultOutputName(string fileName, string container) => WithoutExtension(fileName) + OutputExtension(container);

    /// <summary>A relative path without its file's extension, with '/' as the separator ("shows/ep1.mkv" -> "shows/ep1"): a package's default folder.</summary>
    public static string WithoutExtension(string fileName)
    {
        var path = fileName.Replace('\\', '/');
        var lastSlash = path.LastIndexOf('/');
        var lastDot = path.LastIndexOf('.');
        // A dot that starts the file's name (".hidden") is not an extension's.
        return lastDot > lastSlash + 1 ? path[..lastDot] : path;
    }

    /// <summary>
    /// The n-th name tried when <paramref name="outputName"/> is taken by another live job:
    /// "a.mp4", then "a (2).mp4", "a (3).mp4" …
    /// </summary>
    public static string Numbered(string outputName, int n)
    {
        if (n <= 1) return outputName;
        // Every output name ends in its container's extension (OutputProblem), so the last dot starts it.
        var dot = outputName.LastIndexOf('.');
        return $"{outputName[..dot]} ({n}){outputName[dot..]}";
    }

    /// <summary>Zero-width and bidirectional-override characters, which make a name show as something it is not.</summary>
    public static bool IsInvisible(char c) =>
        c is >= '\u200B' and <= '\u200F' or >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    [GeneratedRegex(@"^[A-Za-z]:")]
    private static partial Regex DriveLetter();
}
