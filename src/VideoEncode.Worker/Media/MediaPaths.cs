using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>A job's input file and where its result goes, both proven to lie inside their roots.</summary>
public sealed record JobPaths(string Input, string Output);

/// <summary>
/// Maps a job's file_name onto the worker's media roots. The host already refused unsafe names,
/// but the worker checks again — the host may be older, or the row may have been edited by hand —
/// and it also follows symbolic links, so a link inside the root cannot lead ffmpeg outside it.
/// </summary>
public sealed class MediaPaths(string inputRoot, string outputRoot)
{
    private readonly string inputRoot = Path.GetFullPath(inputRoot);
    private readonly string outputRoot = Path.GetFullPath(outputRoot);

    /// <summary>The paths for one job, or why there are none (the file_name would leave a root).</summary>
    public (JobPaths? Paths, string? Problem) Resolve(Job job)
    {
        if (FileNames.Problem(job.FileName) is { } problem)
            return (null, $"file_name {problem}.");
        var relative = job.FileName.Replace('\\', '/');
        var input = Path.GetFullPath(Path.Combine(inputRoot, relative));
        var output = Path.GetFullPath(Path.Combine(outputRoot, Path.ChangeExtension(relative, ".mp4")));
        if (!IsInside(input, inputRoot) || !IsInside(RealPath(input), RealPath(inputRoot)))
            return (null, $"file_name '{job.FileName}' leads outside the input folder.");
        if (!IsInside(output, outputRoot) || !IsInside(RealPath(output), RealPath(outputRoot)))
            return (null, $"file_name '{job.FileName}' leads outside the output folder.");
        if (string.Equals(RealPath(input), RealPath(output), StringComparison.Ordinal))
            return (null, $"the output for '{job.FileName}' would overwrite its input; use different --input and --output folders.");
        return (new JobPaths(input, output), null);
    }

    private static bool IsInside(string path, string root) =>
        path.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// The path with every symbolic link along it resolved, like realpath(3), but tolerating
    /// components that do not exist yet (the output file and its new folders).
    /// </summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        var pending = new Queue<string>(Split(full));
        for (var links = 0; pending.TryDequeue(out var part);)
        {
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > 40) throw new IOException($"Too many symbolic links under {path}.");
            var resolved = Path.GetFullPath(target, current);
            current = Path.GetPathRoot(resolved)!;
            pending = new Queue<string>(Split(resolved).Concat(pending));
        }
        return current;
    }

    private static string[] Split(string fullPath) =>
        fullPath[Path.GetPathRoot(fullPath)!.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
}
