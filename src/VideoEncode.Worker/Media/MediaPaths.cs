using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>
/// A job's input file and where its result goes, both proven to lie inside their roots;
/// <paramref name="OutputName"/> is the output relative to its root, as the job names it;
/// <paramref name="OutputInsideInput"/> says that the output lies in the input folder too (the
/// roots overlap), where an existing file may be another job's input.
/// </summary>
public sealed record JobPaths(string Input, string Output, string OutputName, bool OutputInsideInput);

/// <summary>
/// Maps a job's file_name onto the worker's media roots. The host already refused unsafe names,
/// but the worker checks again — the host may be older, or the row may have been edited by hand —
/// and it also follows symbolic links, so a link inside the root cannot lead ffmpeg outside it.
/// </summary>
public sealed class MediaPaths(string inputRoot, string outputRoot)
{
    private readonly string inputRoot = Path.GetFullPath(inputRoot);
    private readonly string outputRoot = Path.GetFullPath(outputRoot);

    /// <summary>
    /// The paths for one job, or why there are none (a name would leave its root). The output is
    /// the job's output_name, or for a job from a host older than that field, the input's name with
    /// .mp4 (which the worker does not assume to be distinct: "a.mkv" and "a.avi" share it).
    /// </summary>
    public (JobPaths? Paths, string? Problem) Resolve(Job job)
    {
        if (FileNames.Problem(job.FileName) is { } problem)
            return (null, $"file_name {problem}.");
        var container = job.Settings.Container;
        // A plan writes nothing: its "output" is a name beside the input's that is checked like any and never written.
        var outputName = job.OutputName ?? (job.Task is { Kind: TaskKinds.Plan } ? FileNames.WithoutExtension(job.FileName) + ".plan"
            : FileNames.DefaultOutputName(job.FileName, container));
        // A package's folder, thumbnails and a split job's parts are not files of the job's container.
        var outputProblem = job.Task is { Kind: not (TaskKinds.Encode or TaskKinds.Join) }
            ? FileNames.Problem(outputName)
            : FileNames.OutputProblem(outputName, container);
        if (outputProblem is not null)
            return (null, $"output_name {outputProblem}.");
        var input = Path.GetFullPath(Path.Combine(inputRoot, job.FileName.Replace('\\', '/')));
        var output = Path.GetFullPath(Path.Combine(outputRoot, outputName.Replace('\\', '/')));
        if (!IsInside(input, inputRoot) || !IsInside(RealPath(input), RealPath(inputRoot)))
            return (null, $"file_name '{job.FileName}' leads outside the input folder.");
        if (!IsInside(output, outputRoot) || !IsInside(RealPath(output), RealPath(outputRoot)))
            return (null, $"output_name '{outputName}' leads outside the output folder.");
        if (string.Equals(RealPath(input), RealPath(output), StringComparison.Ordinal))
            return (null, $"the output for '{job.FileName}' would overwrite its input; use different --input and --output folders.");
        // Where the rename will land: the folder's links resolved, but not a link at the output
        // itself, which a rename replaces rather than follows.
        var landing = Path.Combine(RealPath(Path.GetDirectoryName(output)!), Path.GetFileName(output));
        return (new JobPaths(input, output, outputName, IsInside(landing, RealPath(inputRoot))), null);
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
