using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>A task as the sum of its job reads it (<see cref="TaskRollup"/>), and as GET /api/jobs/{id}/tasks and the job's outputs show it.</summary>
internal sealed class TaskRow
{
    public long Id { get; init; }
    public string Status { get; init; } = "";
    public bool CancelRequested { get; init; }
    public double? Progress { get; init; }
    public string? Error { get; init; }
    public JobTask Task { get; init; } = new();
    public string? Worker { get; init; }
    public int Attempts { get; init; }
    public long? Started { get; init; }
    public long AvailableAt { get; init; }
    public string? OutputName { get; init; }
    public string? OutputUploadId { get; init; }
    public long? OutputBytes { get; init; }
    public string? OutputCodec { get; init; }
    public int? OutputHeight { get; init; }
    public double? Ssim { get; init; }
    public double? Psnr { get; init; }

    public JobState State => JobStatus.Parse(Status) ?? throw new FormatException($"Unknown job status '{Status}'.");

    /// <summary>Pending until the tasks it reads have finished (<see cref="TaskRollup.Waiting"/>).</summary>
    public bool Waits => State == JobState.Pending && AvailableAt >= TaskRollup.Waiting;

    /// <summary>Whether the task's result is one of the job's outputs (a plan's, a chunk's and the audio's are parts of one).</summary>
    public bool IsOutput => Task.Kind is TaskKinds.Encode or TaskKinds.Join or TaskKinds.Package or TaskKinds.Thumbnails;

    public TaskLine Line() => new()
    {
        Id = Id, Index = Task.Index, Kind = Task.Kind, Status = Status, Worker = Worker, Attempts = Attempts,
        Progress = State == JobState.Finished ? 100 : Progress, Error = Error, OutputName = OutputName, OutputBytes = OutputBytes,
        StartSeconds = Task.StartSeconds, EndSeconds = Task.EndSeconds,
    };

    public JobOutput Output() => new(Id, Task.Kind, OutputName ?? "", Status, OutputBytes, OutputCodec, OutputHeight, Ssim, Psnr);
}

/// <summary>What a job made of tasks is, from its tasks (<see cref="TaskRollup.Judge"/>), and what must happen to them.</summary>
internal sealed record RolledUp(JobState State, double Progress, string? Error, long? Started, long? OutputBytes,
    IReadOnlyList<long> CancelPending, IReadOnlyList<long> CancelRunning, IReadOnlyList<long> Ready);

/// <summary>
/// The one rule for a job made of tasks: its status, progress and error sum up its tasks'. A task failed for
/// good fails the job, and the others are cancelled (a running one is asked to stop; its worker removes what it
/// wrote). Every task finished: finished. All ended, some cancelled: cancelled. Any task started: in progress.
/// A waiting join becomes claimable once the plan, the audio and every chunk have finished.
/// </summary>
internal static class TaskRollup
{
    /// <summary>available_at of a task waiting for others: far enough ahead that no claim reaches it, and no backoff ever ends there.</summary>
    public const long Waiting = 1L << 52;

    public static RolledUp Judge(IReadOnlyList<TaskRow> tasks)
    {
        var progress = Progress(tasks.Select(task => (task.State, task.Progress)));
        var started = tasks.Where(task => task.Started is not null).Select(task => task.Started).Min();
        var outputBytes = tasks.Where(task => task.IsOutput && task.State == JobState.Finished).Sum(task => task.OutputBytes ?? 0);
        if (tasks.FirstOrDefault(task => task.State == JobState.Failed) is { } failed)
            return new RolledUp(JobState.Failed, progress, $"Task {failed.Task.Index} ({failed.Task.Kind}) failed: {failed.Error}", started, null,
                tasks.Where(task => task.State == JobState.Pending).Select(task => task.Id).ToList(),
                tasks.Where(task => task.State == JobState.InProgress && !task.CancelRequested).Select(task => task.Id).ToList(), []);
        if (tasks.All(task => JobTransitions.HasEnded(task.State)))
            return tasks.Any(task => task.State == JobState.Cancelled)
                ? new RolledUp(JobState.Cancelled, progress, null, started, null, [], [], [])
                : new RolledUp(JobState.Finished, 100, null, started, outputBytes, [], [], []);
        var state = tasks.Any(task => task.State is JobState.InProgress or JobState.Finished) ? JobState.InProgress : JobState.Pending;
        return new RolledUp(state, progress, null, state == JobState.Pending ? null : started, null, [], [], ReadyToJoin(tasks));
    }

    /// <summary>A job's progress from its tasks': the mean, a finished task counting 100 and one not started 0.</summary>
    public static double Progress(IEnumerable<(JobState State, double? Progress)> tasks)
    {
        var each = tasks.Select(task => task.State == JobState.Finished ? 100 : task.State == JobState.InProgress ? task.Progress ?? 0 : 0).ToList();
        return each.Count == 0 ? 0 : Math.Round(each.Average(), 2);
    }

    /// <summary>A waiting join whose plan has finished and whose audio and chunks (one at least) have all finished.</summary>
    private static IReadOnlyList<long> ReadyToJoin(IReadOnlyList<TaskRow> tasks)
    {
        var join = tasks.FirstOrDefault(task => task.Task.Kind == TaskKinds.Join && task.Waits);
        if (join is null) return [];
        var parts = tasks.Where(task => task.Task.Kind is TaskKinds.Chunk or TaskKinds.Audio).ToList();
        var planned = tasks.Any(task => task.Task.Kind == TaskKinds.Plan && task.State == JobState.Finished);
        return planned && parts.Any(task => task.Task.Kind == TaskKinds.Chunk) && parts.All(task => task.State == JobState.Finished) ? [join.Id] : [];
    }
}
