using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace VideoEncode.Worker.Media;

/// <summary>
/// The temporary files this worker process writes, and the proof that it is alive.
/// <para>
/// Each run of a job writes its own file, ".{output}.job{id}.{worker}.{random}.partial", created
/// exclusively beside its output: two runs of one job (after a reset, or a lease that lapsed while
/// this worker still encoded) never share a file, so neither can delete or overwrite the other's,
/// and a file or link planted at the name makes the run fail rather than be followed.
/// </para>
/// <para>
/// The worker holds an exclusive lock (flock) on "{output root}/.videoencode-workers/{worker}.lock"
/// for as long as it lives; the kernel drops it when the process ends, even by kill -9. So at
/// start-up a worker tells the leftovers of dead workers, which it deletes, from the files of
/// live ones sharing the folder, which it keeps.
/// </para>
/// </summary>
public sealed partial class RunFiles : IDisposable
{
    /// <summary>Beside the results, but out of their way: a listing of the output root shows results.</summary>
    public const string LockFolder = ".videoencode-workers";

    /// <summary>The lock file of worker process <paramref name="worker"/> under <paramref name="root"/>.</summary>
    internal static string LockPath(string root, string worker) => Path.Combine(root, LockFolder, worker + ".lock");

    /// <summary>The output's name is shortened to this many bytes in a temporary name, which must stay under the usual 255.</summary>
    private const int MaxNameBytes = 120;

    private readonly FileStream held;
    private readonly string lockPath;

    private RunFiles(string worker, string lockPath, FileStream held)
    {
        Worker = worker;
        this.lockPath = lockPath;
        this.held = held;
    }

    /// <summary>This worker process's id in its file names: random, so no two processes share one.</summary>
    public string Worker { get; }

    /// <summary>Takes this process's lock under <paramref name="outputRoot"/>, then removes what dead workers left there, saying so through <paramref name="report"/>.</summary>
    public static RunFiles Start(string outputRoot, Action<string> report)
    {
        var folder = Directory.CreateDirectory(Path.Combine(outputRoot, LockFolder)).FullName;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var worker = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var path = Path.Combine(folder, worker + ".lock");
            try
            {
                var held = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                // Another worker's sweep may have taken and removed the new file in the instant
                // before this lock was taken; then the lock guards nothing, and a new name is tried.
                if (File.Exists(path))
                {
                    var files = new RunFiles(worker, path, held);
                    files.Sweep(outputRoot, folder, report);
                    return files;
                }
                held.Dispose();
            }
            catch (IOException) when (attempt < 3)
            {
                // The same race, seen from the other side: that sweep still holds the lock.
            }
        }
        throw new IOException($"Could not take a worker lock in '{folder}'.");
    }

    /// <summary>Creates this run's empty temporary file beside <paramref name="output"/> and answers its path.</summary>
    public string CreateTemporary(string output, long jobId)
    {
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var path = Path.Combine(Path.GetDirectoryName(output)!, $".{Shortened(Path.GetFileName(output))}.job{jobId}.{Worker}.{random}.partial");
        CreateNew(path);
        return path;
    }

    /// <summary>Creates an empty file, failing if anything (a file, a link, even a dangling one) is already there.</summary>
    internal static void CreateNew(string path)
    {
        using (new FileStream(path, FileMode.CreateNew, FileAccess.Write)) { }
    }

    /// <summary>Whether the path is a regular file, not a link (to be moved into place, a temporary file must still be one).</summary>
    public static bool IsPlainFile(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is null && !info.Attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    private void Sweep(string outputRoot, string lockFolder, Action<string> report)
    {
        // With file locking switched off in .NET, every lock would look free and live workers' files would go.
        if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var disabled) && disabled
            || Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is "1" or "true")
        {
            report("File locking is disabled in .NET, so leftover temporary files of stopped workers are not removed.");
            return;
        }
        var alive = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var path in Partials(outputRoot))
        {
            if (PartialName().Match(Path.GetFileName(path)) is not { Success: true } match) continue;
            var worker = match.Groups["worker"].Value;
            if (worker == Worker) continue;
            if (!alive.TryGetValue(worker, out var live)) alive[worker] = live = OwnerIsAlive(path, worker);
            if (!live && TryDelete(path)) report($"Removed {path}, left by a worker that has stopped.");
        }
        foreach (var path in Directory.EnumerateFiles(lockFolder, "*.lock"))
        {
            if (path == lockPath) continue;
            try
            {
                using var unheld = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held: its worker is alive. Or not ours to remove.
            }
        }
    }

    /// <summary>
    /// Whether the worker that wrote a temporary file may still run. Its lock lies in the lock folder
    /// of its own output root, which may be a folder above or below this worker's (--output /enc and
    /// --output /enc/4k share files), so the nearest lock of that name above the file decides. No
    /// lock anywhere means an owner we cannot judge: its file is kept.
    /// </summary>
    private static bool OwnerIsAlive(string partial, string worker)
    {
        for (var folder = Path.GetDirectoryName(partial); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            var lockFile = Path.Combine(folder, LockFolder, worker + ".lock");
            if (File.Exists(lockFile)) return IsAlive(lockFile);
        }
        return true;
    }

    /// <summary>Whether someone holds this lock file's lock (a file gone since it was seen counts as not held).</summary>
    internal static bool IsAlive(string lockFile)
    {
        try
        {
            using var unheld = new FileStream(lockFile, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // held; or another user's, which is not ours to judge
        }
    }

    /// <summary>Every *.partial under the root, without following links to folders elsewhere.</summary>
    private static FileSystemEnumerable<string> Partials(string root) =>
        new(root, (ref FileSystemEntry entry) => entry.ToFullPath(),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory && entry.FileName.EndsWith(".partial", StringComparison.Ordinal),
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !entry.Attributes.HasFlag(FileAttributes.ReparsePoint),
        };

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Shortened(string name)
    {
        while (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            name = name[..^(char.IsLowSurrogate(name[^1]) ? 2 : 1)];
        return name;
    }

    [GeneratedRegex(@"^\..*\.job[0-9]+\.(?<worker>[0-9a-f]{32})\.[0-9a-f]{16}\.partial$")]
    private static partial Regex PartialName();

    /// <summary>Gives up the lock and removes its file: a worker that ends cleanly leaves nothing behind.</summary>
    public void Dispose()
    {
        try { File.Delete(lockPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* swept by the next worker to start */ }
        held.Dispose();
    }
}
