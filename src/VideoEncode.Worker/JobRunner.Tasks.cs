using System.Formats.Tar;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker;

/// <summary>
/// How a task other than a plain encode runs (<see cref="TaskKinds"/>): the input is found (the shared folder) or
/// fetched (the host's store) and checked as a job's is, the task's work (<see cref="ITaskWork"/>) writes its result in a
/// scratch folder of its own, and the result goes where the task's output name says — placed under the output root,
/// or uploaded to the host (a folder as one tar). Thumbnails are uploaded in any case, so the host can show the
/// storyboard. A plan's result is its finish report alone.
/// </summary>
public sealed partial class JobRunner
{
    private async Task<Result> RunTaskAsync(Job job, ClaimKeeper claim)
    {
        var task = job.Task!;
        if ((works ?? TaskWorks.All).GetValueOrDefault(task.Kind) is not { } work)
            return Fail($"This worker cannot run a task of kind '{task.Kind}'; upgrade it.");
        JobPaths? placed = null;
        if (job.UploadId is null)
        {
            if (paths is null)
                return Fail($"This worker has no shared folder (--input/--output), and the input '{job.FileName}' is not in the host's media store.");
            var (resolved, problem) = paths.Resolve(job);
            if (resolved is null) return Fail(problem!);
            if (WritesResult(task) && OutputRefusal(task, resolved, job.Overwrite) is { } refusal) return Fail(refusal);
            placed = resolved;
        }
        return await InScratchRunAsync(job, claim, async folder =>
        {
            var input = placed?.Input ?? Path.Combine(folder, "input" + SafeExtension(job.FileName));
            if (placed is null)
            {
                claim.Phase = JobPhase.Downloading;
                using (JobTracing.Step("download"))
                    await download.DownloadAsync(job, input, settings.TransferLimit, progress => Report(job.Id, claim, progress), claim.Stop);
            }
            var (probed, unusable) = await CheckInputAsync(job, input, claim);
            if (unusable is not null) return unusable;
            claim.Phase = JobPhase.Encoding;
            claim.Latest = null;
            var workFolder = Directory.CreateDirectory(Path.Combine(folder, "work")).FullName;
            var context = new TaskContext(job, task, input, probed!, workFolder, ffmpeg, settings.StallTimeout, progress =>
            {
                claim.Latest = progress;
                console.Progress(job.Id, progress);
            }, (part, cancel) => FetchPartAsync(job, part, folder, claim, cancel));
            TaskWorkResult outcome;
            using (JobTracing.Step(task.Kind))
                outcome = await work.RunAsync(context, claim.Stop);
            switch (outcome)
            {
                case TaskWorkResult.Failed failed:
                    return new Failed(failed.Failure);
                case TaskWorkResult.Stopped:
                    return new Stopped();
            }
            var done = (TaskWorkResult.Done)outcome;
            if (!WritesResult(task)) return new Encoded($"the plan of job {task.JobId}", done.Finish);
            // skip_if_larger: the joined file was not smaller than the input and counts for nothing; only the parts go.
            if (done.Finish.Result == JobResults.KeptOriginal)
            {
                if (placed is not null) RemoveParts(task);
                return new KeptOriginal(done.Finish);
            }
            // A run whose claim lapsed while it worked must not put its result where the task's current run will put its own.
            if (!await claim.StillOursAsync()) return new Stopped();
            string? uploaded = null;
            if (placed is null || task.Kind == TaskKinds.Thumbnails)
            {
                claim.Phase = JobPhase.Uploading;
                claim.Latest = null;
                var sent = Directory.Exists(done.Result) ? Tar(done.Result, Path.Combine(folder, "result.tar")) : done.Result;
                var name = Path.GetFileName(job.OutputName ?? "result") + (Directory.Exists(done.Result) ? ".tar" : "");
                using (JobTracing.Step("upload"))
                    uploaded = await upload.UploadAsync(job.Id, sent, name, settings.TransferLimit, progress => Report(job.Id, claim, progress), claim.Stop);
            }
            if (placed is not null && PlaceResult(done.Result, placed, job.Overwrite) is { } refused) return Fail(refused);
            if (placed is not null && task.Kind == TaskKinds.Join) RemoveParts(task);
            return new Encoded(placed?.Output ?? $"upload {uploaded} on the host", done.Finish with
            {
                OutputUploadId = uploaded,
                InputBytes = done.Finish.InputBytes ?? new FileInfo(input).Length,
                OutputBytes = done.Finish.OutputBytes ?? Size(done.Result),
        });
        });
    }

    /// <summary>A plan reports where to cut; every other task leaves a file or a folder.</summary>
    private static bool WritesResult(JobTask task) => task.Kind != TaskKinds.Plan;

    /// <summary>
    /// Why the result may not go to its place, asked before the work starts: a file as for a plain job; a package's folder
    /// may be filled only when it does not exist or the job allows overwriting. A split job's parts are the job's own.
    /// </summary>
    private static string? OutputRefusal(JobTask task, JobPaths placed, bool overwrite) => task.Kind switch
    {
        TaskKinds.Chunk or TaskKinds.Audio => null,
        // The folder may exist already: the job's thumbnails may have landed in it first. Its playlist may not.
        TaskKinds.Package => File.Exists(placed.Output) ? $"output exists: {placed.OutputName} is a file, not a folder"
            : !overwrite && Directory.Exists(placed.Output) && PackageFormats.All.Any(format => File.Exists(Path.Combine(placed.Output, PackageFormats.Manifest(format))))
                ? $"output exists: {placed.OutputName} already holds a package (the job does not allow overwriting it)"
                : null,
        _ => OutputPlacement.Refusal(placed, overwrite),
    };

    /// <summary>
    /// Moves a result into place: a file by rename (the parts of a split job replace what an earlier run left), a folder
    /// file by file into the output's folder (a package's folder; thumbnails beside their output), each durable before
    /// the host hears "finished". Null when done, or why not.
    /// </summary>
    private string? PlaceResult(string result, JobPaths placed, bool overwrite)
    {
        var target = Directory.Exists(result)
            ? File.Exists(Path.Combine(result, Path.GetFileName(placed.Output))) ? Path.GetDirectoryName(placed.Output)! : placed.Output
            : null;
        if (target is null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(placed.Output)!);
            using (var written = new FileStream(result, FileMode.Open, FileAccess.ReadWrite)) written.Flush(flushToDisk: true);
            if (OutputPlacement.Place(result, placed, overwrite || placed.OutputName.StartsWith(TaskPart.Folder + "/", StringComparison.Ordinal)) is { } refused)
                return refused;
            Durable.FlushFolders(Path.GetDirectoryName(placed.Output)!, settings.Output);
            return null;
        }
        foreach (var file in Directory.EnumerateFiles(result, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(result, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            using (var written = new FileStream(file, FileMode.Open, FileAccess.ReadWrite)) written.Flush(flushToDisk: true);
            try
            {
                File.Move(file, destination, overwrite && !placed.OutputInsideInput);
            }
            catch (IOException) when (File.Exists(destination))
            {
                return $"output exists: {Path.GetRelativePath(settings.Output, destination)} (the job does not allow overwriting it)";
            }
        }
        foreach (var written in Directory.EnumerateDirectories(target, "*", SearchOption.AllDirectories).Prepend(target))
            Durable.FlushFolder(written);
        Durable.FlushFolders(target, settings.Output);
        return null;
    }

    /// <summary>
    /// A split job's part as a local file: under the output root for a shared-folder job (where its worker placed it),
    /// downloaded from the host for a store job.
    /// </summary>
    private async Task<string> FetchPartAsync(Job job, TaskPart part, string folder, ClaimKeeper claim, CancellationToken cancel)
    {
        if (job.UploadId is null)
        {
            var local = Path.GetFullPath(Path.Combine(settings.Output!, part.OutputName));
            if (!local.StartsWith(Path.GetFullPath(Path.Combine(settings.Output!, TaskPart.Folder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new Transfers.TransferFailedException($"The part '{part.OutputName}' of job {job.Task!.JobId} is not a part: it lies outside {TaskPart.Folder}.", retryable: false);
            if (!File.Exists(local))
                throw new Transfers.TransferFailedException($"The part '{part.OutputName}' of job {job.Task!.JobId} is missing from the output folder.", retryable: true);
            return local;
        }
        var parts = Directory.CreateDirectory(Path.Combine(folder, "parts")).FullName;
        var path = Path.Combine(parts, part.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        claim.Phase = JobPhase.Downloading;
        await download.DownloadResultAsync(part.TaskId, path, settings.TransferLimit, progress => Report(job.Id, claim, progress), cancel);
        claim.Phase = JobPhase.Encoding;
        return path;
    }

    /// <summary>Once joined and in place, a shared-folder job's parts go: they were only the way there.</summary>
    private void RemoveParts(JobTask join)
    {
        foreach (var part in join.Parts ?? [])
        {
            var local = Path.GetFullPath(Path.Combine(settings.Output!, part.OutputName));
            TryDelete(local);
        }
        try
        {
            var folder = Path.Combine(settings.Output!, TaskPart.Folder, $"job-{join.JobId}");
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
        catch (IOException)
        {
            // Something else is in the folder: it stays.
        }
    }

    private static string Tar(string folder, string tar)
    {
        TarFile.CreateFromDirectory(folder, tar, includeBaseDirectory: false);
        return tar;
    }

    private static long Size(string result) => Directory.Exists(result)
        ? Directory.EnumerateFiles(result, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length)
        : new FileInfo(result).Length;
}
