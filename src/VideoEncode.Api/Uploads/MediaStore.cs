using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// Where uploads live on disk, under the Media setting:
/// <c>uploads/{id}.part</c> while bytes arrive, then <c>files/{id}</c> once complete. The rename between
/// the two is what completes an upload on disk (the row's completed_at follows it), so a file in
/// <c>files/</c> is always whole; the id is the file's name, so nothing a client sends becomes a path.
/// </summary>
public sealed partial class MediaStore(IOptions<QueueOptions> options)
{
    private const string ReceivingFolder = "uploads", CompletedFolder = "files", PartSuffix = ".part";

    public string Root { get; } = Path.GetFullPath(options.Value.Media);

    public string ReceivingRoot => Path.Combine(Root, ReceivingFolder);

    public string CompletedRoot => Path.Combine(Root, CompletedFolder);

    /// <summary>The file of a complete upload (<see cref="Upload.IsComplete"/>): whole, flushed, never written again.</summary>
    public string CompletedPath(string id) => Path.Combine(CompletedRoot, CheckedId(id));

    /// <summary>The file an unfinished upload's bytes are appended to.</summary>
    public string PartPath(string id) => Path.Combine(ReceivingRoot, CheckedId(id) + PartSuffix);

    /// <summary>A new upload's id: 128 random bits as 32 lower-case hex digits (the last segment of its Location).</summary>
    public static string NewId() => System.Security.Cryptography.RandomNumberGenerator.GetHexString(32, lowercase: true);

    public static bool IsId(string id) => IdPattern().IsMatch(id);

    /// <summary>Free bytes on the disk holding the store (for this process's user).</summary>
    public long FreeBytes() => new DriveInfo(Root).AvailableFreeSpace;

    /// <summary>
    /// Creates the store's folders and proves they can be written, at start-up, so a bad Media setting
    /// is reported then and not at the first upload. Answers why not, or null.
    /// </summary>
    public string? Prepare()
    {
        try
        {
            Directory.CreateDirectory(ReceivingRoot);
            Directory.CreateDirectory(CompletedRoot);
            foreach (var folder in new[] { ReceivingRoot, CompletedRoot })
            {
                var probe = Path.Combine(folder, ".write-test-" + NewId());
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
            }
            Durable.FlushFolders(ReceivingRoot, Root);
            Durable.FlushFolders(CompletedRoot, Root);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <summary>The ids of the files in the store's two folders with their last write time (the sweep's look for leftovers).</summary>
    public IEnumerable<(string Id, string Path, DateTime WrittenUtc)> Files()
    {
        foreach (var path in Directory.EnumerateFiles(ReceivingRoot, "*" + PartSuffix))
            if (Path.GetFileName(path)[..^PartSuffix.Length] is var id && IsId(id))
                yield return (id, path, File.GetLastWriteTimeUtc(path));
        foreach (var path in Directory.EnumerateFiles(CompletedRoot))
            if (Path.GetFileName(path) is var id && IsId(id))
                yield return (id, path, File.GetLastWriteTimeUtc(path));
    }

    /// <summary>Removes whatever files the upload has (a missing one is fine: a crash may have got there first).</summary>
    public void Delete(string id)
    {
        File.Delete(PartPath(id));
        File.Delete(CompletedPath(id));
    }

    private static string CheckedId(string id) =>
        IsId(id) ? id : throw new ArgumentException($"'{id}' is not an upload id.", nameof(id));

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex IdPattern();
}
