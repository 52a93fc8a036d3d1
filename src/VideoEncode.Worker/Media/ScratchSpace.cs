using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace VideoEncode.Worker.Media;

/// <summary>
/// Where a worker keeps uploaded jobs while it runs them: the downloaded input and the encoded result,
/// in one folder per run, "{scratch}/{worker process}/job{id}-{random}", removed when the run ends.
/// The scratch folder is this user's alone (<see cref="PrivateFolder"/>). Several workers may share it:
/// each holds a lock there (<see cref="RunFiles"/>), and at start a worker removes the folders of workers
/// that no longer hold theirs — what a kill -9 left. Only folders a worker made and marked as its own
/// (<see cref="Marker"/>) are ever removed: whatever else lies in the scratch folder is left alone.
/// </summary>
public sealed partial class ScratchSpace : IDisposable
{
    private readonly RunFiles runFiles;
    private readonly string root, own;

    private ScratchSpace(string root, RunFiles runFiles)
    {
        this.root = root;
        this.runFiles = runFiles;
        own = Directory.CreateDirectory(Path.Combine(root, runFiles.Worker)).FullName;
        File.WriteAllText(Path.Combine(own, Marker), runFiles.Worker);
    }

    /// <summary>The file that marks a worker's folder as made by that worker: it names the worker, as the folder does.</summary>
    public const string Marker = ".videoencode-worker";

    /// <summary>Takes this process's place in <paramref name="root"/> and clears what stopped workers left, saying so through <paramref name="report"/>.</summary>
    /// <exception cref="IOException">The scratch folder is not this user's alone (<see cref="PrivateFolder"/>), or cannot be used.</exception>
    public static ScratchSpace Open(string root, Action<string> report)
    {
        PrivateFolder.Create(root);
        var runFiles = RunFiles.Start(root, report);
        try
        {
            // A worker takes its lock before it makes its folder, so a folder whose lock is gone or free is a dead worker's.
            foreach (var folder in Directory.EnumerateDirectories(root))
            {
                var worker = Path.GetFileName(folder);
                if (!WorkerId().IsMatch(worker) || worker == runFiles.Worker || !MadeBy(folder, worker)) continue;
                var lockFile = RunFiles.LockPath(root, worker);
                if (File.Exists(lockFile) && RunFiles.IsAlive(lockFile)) continue;
                if (TryDelete(folder)) report($"Removed {folder}, left in the scratch folder by a worker that has stopped.");
            }
            return new ScratchSpace(root, runFiles);
        }
        catch
        {
            runFiles.Dispose();
            throw;
        }
    }

    private long reserved;

    /// <summary>
    /// The largest input a new job may have: half of what the scratch folder's disk has free once the
    /// runs under way have their room (its input and a result as large), so the new job's result fits too.
    /// </summary>
    public long RoomForInputBytes => Math.Max(0, (new DriveInfo(root).AvailableFreeSpace - Interlocked.Read(ref reserved)) / 2);

    /// <summary>Holds room for a run (its input and result) until disposed, so other slots do not claim it too.</summary>
    public IDisposable Reserve(long inputBytes)
    {
        var bytes = 2 * Math.Max(0, inputBytes);
        Interlocked.Add(ref reserved, bytes);
        return new Reservation(() => Interlocked.Add(ref reserved, -bytes));
    }

    private sealed class Reservation(Action release) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) release();
        }
    }

    /// <summary>A new, empty folder for one run of a job.</summary>
    public string NewRunFolder(long jobId) =>
        Directory.CreateDirectory(Path.Combine(own, $"job{jobId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}")).FullName;

    /// <summary>Removes a run's folder and everything in it; false (and the folder left for the next start) if it cannot.</summary>
    public static bool TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether the folder holds the marker a worker of that name left in the folder it made.</summary>
    private static bool MadeBy(string folder, string worker)
    {
        try
        {
            var marker = new FileInfo(Path.Combine(folder, Marker));
            return marker is { Exists: true, LinkTarget: null } && File.ReadAllText(marker.FullName) == worker;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex WorkerId();

    public void Dispose()
    {
        TryDelete(own);
        runFiles.Dispose();
    }
}
