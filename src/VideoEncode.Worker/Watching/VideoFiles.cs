using System.IO.Enumeration;

namespace VideoEncode.Worker.Watching;

/// <summary>A file found under a watched folder: its full path, length in bytes and last-write time in unix milliseconds.</summary>
public sealed record FoundFile(string FullPath, long Size, long Mtime);

/// <summary>
/// Which files a watched folder enqueues: videos, known by their extension. Names starting with "."
/// (hidden files, and the temporary files rsync and many downloaders write) are skipped, and so are
/// hidden folders; so are partial downloads and editors' leftovers (".part", ".tmp", "~"), whose
/// extension is not a video's.
/// </summary>
public static class VideoFiles
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".mkv", ".mp4", ".m4v", ".mov", ".avi", ".webm", ".ts", ".m2ts", ".mts", ".wmv", ".flv", ".mpg", ".mpeg", ".vob", ".ogv", ".3gp",
    };

    public static bool IsVideo(ReadOnlySpan<char> fileName) =>
        !fileName.StartsWith('.') && Extensions.Contains(Path.GetExtension(fileName).ToString());

    /// <summary>Every video under <paramref name="folder"/>, in any depth, with what a directory listing tells (no extra call per file).</summary>
    public static IEnumerable<FoundFile> Under(string folder) =>
        new FileSystemEnumerable<FoundFile>(folder,
            (ref FileSystemEntry entry) => new FoundFile(entry.ToFullPath(), entry.Length, entry.LastWriteTimeUtc.ToUnixTimeMilliseconds()),
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory && IsVideo(entry.FileName),
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !entry.FileName.StartsWith('.'),
        };

    /// <summary>One file as it is now; null when it is gone (or was never a video).</summary>
    public static FoundFile? Look(string fullPath)
    {
        if (!IsVideo(Path.GetFileName(fullPath.AsSpan()))) return null;
        var file = new FileInfo(fullPath);
        try
        {
            return file.Exists ? new FoundFile(file.FullName, file.Length, new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeMilliseconds()) : null;
        }
        catch (IOException)
        {
            return null; // deleted between the two questions
        }
    }
}
