using System.Runtime.InteropServices;

namespace VideoEncode.Contracts;

/// <summary>
/// A rename is on disk only once the folder holding the new name is: fsync of a file covers its
/// data, not its entry in the folder. Without this, a power cut just after the rename could take the
/// new file with it: a worker's result already reported finished, a host's backup already reported
/// written. Shared by the worker and the host; Linux only, where they run; elsewhere a no-op.
/// </summary>
public static partial class Durable
{
    private const int ReadOnly = 0, CloseOnExec = 0x80000;

    /// <summary>
    /// Flushes <paramref name="folder"/> and each folder above it up to <paramref name="root"/>:
    /// any of them may be new, and a new folder's own entry lives in its parent.
    /// </summary>
    public static void FlushFolders(string folder, string root)
    {
        foreach (var each in FoldersUpTo(folder, root)) FlushFolder(each);
    }

    /// <summary><paramref name="folder"/> and each folder above it up to <paramref name="root"/>, the root included (full paths).</summary>
    public static IEnumerable<string> FoldersUpTo(string folder, string root)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        for (string? current = Path.GetFullPath(folder); current is not null && current.Length >= root.Length; current = Path.GetDirectoryName(current))
            yield return current;
    }

    /// <summary>Flushes <paramref name="folder"/>'s entries to disk; an IOException says why it could not.</summary>
    public static void FlushFolder(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        var descriptor = Open(folder, ReadOnly | OnlyADirectory | CloseOnExec);
        if (descriptor < 0) throw Failure("open", folder);
        try
        {
            if (Fsync(descriptor) != 0) throw Failure("fsync", folder);
        }
        finally
        {
            Close(descriptor);
        }
    }

    /// <summary>O_DIRECTORY, whose value differs between the architectures Linux runs on.</summary>
    private static int OnlyADirectory =>
        RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le ? 0x4000 : 0x10000;

    private static IOException Failure(string call, string folder) =>
        new($"Could not flush the folder '{folder}' to disk ({call}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}).");

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
