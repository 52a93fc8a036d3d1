using System.Text.RegularExpressions;

namespace VideoEncode.Contracts;

/// <summary>
/// The rule for a job's file_name, shared by the host (which refuses bad names at enqueue) and
/// the worker (which checks again before touching the disk): a plain relative path inside the
/// media root.
/// </summary>
public static partial class FileNames
{
    public const int MaxLength = 1024;

    /// <summary>Why <paramref name="fileName"/> is unsafe, or null when it is a plain relative path.</summary>
    public static string? Problem(string fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName)) return "must not be empty";
        if (fileName.Length > MaxLength) return $"must be at most {MaxLength} characters";
        if (fileName.Any(char.IsControl)) return "must not contain control characters";
        if (fileName[0] is '/' or '\\' || DriveLetter().IsMatch(fileName))
            return "must be a relative path inside the media root, not an absolute path";
        // Both separators count: a worker may run on Windows, where '\' separates folders.
        var segments = fileName.Split('/', '\\');
        if (segments.Any(segment => segment == "..")) return "must not contain '..' segments";
        if (segments[^1].Length == 0) return "must name a file, not a folder";
        return null;
    }

    [GeneratedRegex(@"^[A-Za-z]:")]
    private static partial Regex DriveLetter();
}
