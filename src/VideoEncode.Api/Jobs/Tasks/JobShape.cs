using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// A task of a new job, before it has ids: its kind and place (<see cref="Spec"/>), the settings it encodes with,
/// and its output name — null for a name the naming rules choose (the input's name in the task's container,
/// numbered past the names taken), as for a plain job. <see cref="Waits"/>: not claimable until the tasks it
/// reads have finished (a split job's join).
/// </summary>
internal sealed record NewTask(JobTask Spec, EncodeSettings Settings, string? OutputName, bool Overwrite, bool Waits = false)
{
    /// <summary>Whether the task writes a result that must have a name of its own among the live jobs' (a plan writes none).</summary>
    public bool Named => Spec.Kind is not TaskKinds.Plan;

    /// <summary>The encoder a worker must have to take the task: the settings' for what encodes video, none for the rest.</summary>
    public string? NeedsEncoder => Spec.Kind is TaskKinds.Encode or TaskKinds.Chunk or TaskKinds.Package ? JobRules.NeededEncoder(Settings) ?? EncoderCatalog.Libx264 : null;
}

/// <summary>
/// The one rule for what tasks a job is made of (<see cref="NewJob.HasTasks"/>), in their order:
/// <list type="bullet">
/// <item>"outputs": one encode per output, in the order asked;</item>
/// <item>a package (and no outputs): the package, in the folder output_name names (by default the input's path without its extension);</item>
/// <item>split_seconds: a plan, then the join (waiting, holding the job's output name); the plan's finish adds the audio and the chunks;</item>
/// <item>otherwise one encode of the job's own settings and output name;</item>
/// <item>and with thumbnails, last, the thumbnails: inside the package's folder, or beside the first output.</item>
/// </list>
/// </summary>
internal static class JobShape
{
    /// <summary>The tasks of <paramref name="job"/>, the thumbnails' name left to <see cref="NameThumbnails"/> once the others are named.</summary>
    public static IReadOnlyList<NewTask> TasksOf(NewJob job)
    {
        var tasks = new List<NewTask>();
        var settings = job.Settings;
        JobTask Spec(string kind) => new() { Index = tasks.Count, Kind = kind };
        if (job.Outputs is { } outputs)
            foreach (var output in outputs)
                tasks.Add(new NewTask(Spec(TaskKinds.Encode), output.Settings, output.OutputName, output.Overwrite));
        if (settings.Package is { } package)
            tasks.Add(new NewTask(Spec(TaskKinds.Package) with { Package = package }, settings with { Thumbnails = null },
                job.OutputName ?? FileNames.WithoutExtension(job.FileName), job.Overwrite));
        else if (settings.SplitSeconds is { } seconds)
        {
            tasks.Add(new NewTask(Spec(TaskKinds.Plan) with { SplitSeconds = seconds }, settings, null, false));
            tasks.Add(new NewTask(Spec(TaskKinds.Join), settings, job.OutputName, job.Overwrite, Waits: true));
        }
        else if (job.Outputs is null)
            tasks.Add(new NewTask(Spec(TaskKinds.Encode), settings with { Thumbnails = null }, job.OutputName, job.Overwrite));
        if (settings.Thumbnails is { } thumbnails)
            tasks.Add(new NewTask(Spec(TaskKinds.Thumbnails) with { Thumbnails = thumbnails }, settings, null, job.Overwrite));
        return tasks;
    }

    /// <summary>
    /// The thumbnails' name, from the names the other tasks got: "storyboard.vtt" inside a package's folder, else
    /// "a.storyboard.vtt" beside the first output "a.mp4"; the sprite and poster go beside it ("a.sprite.jpg").
    /// </summary>
    public static string NameThumbnails(IReadOnlyList<NewTask> tasks, IReadOnlyList<string?> names)
    {
        var package = tasks.Select((task, i) => (task, i)).FirstOrDefault(item => item.task.Spec.Kind == TaskKinds.Package);
        if (package.task is not null) return $"{names[package.i]!.TrimEnd('/')}/{ThumbnailsSpec.Storyboard}";
        var first = tasks.Select((task, i) => (task, i)).First(item => item.task.Named && item.task.Spec.Kind != TaskKinds.Thumbnails);
        return $"{FileNames.WithoutExtension(names[first.i]!)}.{ThumbnailsSpec.Storyboard}";
    }

    /// <summary>
    /// The tasks a plan's finish adds: the audio (everything but the video, once) and one chunk per cut, each chunk
    /// written as a hidden part of the job (under ".videoencode-parts/job-N/" in the output root, or uploaded to the host).
    /// </summary>
    public static IReadOnlyList<NewTask> AfterPlan(long jobId, int firstIndex, SplitPlan plan, EncodeSettings settings)
    {
        var tasks = new List<NewTask>(plan.Chunks.Count + 1)
        {
            new(new JobTask { JobId = jobId, Index = firstIndex, Kind = TaskKinds.Audio }, settings, PartName(jobId, "audio"), Overwrite: true),
        };
        for (var i = 0; i < plan.Chunks.Count; i++)
        {
            var cut = plan.Chunks[i];
            tasks.Add(new NewTask(new JobTask
            {
                JobId = jobId, Index = firstIndex + 1 + i, Kind = TaskKinds.Chunk, StartSeconds = cut.StartSeconds, EndSeconds = cut.EndSeconds, Frames = cut.Frames,
            }, settings, PartName(jobId, $"chunk-{i + 1:D4}"), Overwrite: true));
        }
        return tasks;
    }

    /// <summary>Where a split job's parts lie under the output root: a hidden folder of the job's own, removed by the join.</summary>
    public static string PartName(long jobId, string part) => $"{TaskPart.Folder}/job-{jobId}/{part}";
}
