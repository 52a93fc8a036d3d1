using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// What one kind of task does with local files (<see cref="TaskKinds"/>): given the job's input as a local
/// path (already checked and probed), it writes its result into <see cref="TaskContext.WorkFolder"/>, a fresh
/// folder of its own, and says what it wrote. Where the input came from (the shared folder, or downloaded from
/// the host) and where the result goes (placed under the output root, or uploaded) is the task runner's
/// business, as are the heartbeats, the claim and the report: a task's work only encodes.
/// </summary>
public interface ITaskWork
{
    Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop);
}

/// <summary>
/// What a task's work is given. <paramref name="Progress"/> feeds the heartbeats and the console;
/// <paramref name="FetchPart"/> makes a finished part of the job (a join's chunks and audio) a local file,
/// wherever it lies, and answers its path.
/// </summary>
public sealed record TaskContext(Job Job, JobTask Task, string InputPath, ProbeResult Input, string WorkFolder, Ffmpeg Ffmpeg,
    TimeSpan StallTimeout, Action<EncodeProgress> Progress, Func<TaskPart, CancellationToken, Task<string>> FetchPart);

/// <summary>How a task's work ended.</summary>
public abstract record TaskWorkResult
{
    /// <summary>
    /// Done: the result is <paramref name="Result"/>, a file or a folder inside the work folder (a package's folder;
    /// thumbnails' files), with what the finish reports (sizes, scores, codec, height, a plan's cuts).
    /// </summary>
    public sealed record Done(string Result, FinishReport Finish) : TaskWorkResult;

    /// <summary>Failed: for good, or for this attempt (<see cref="FailureReport.Retryable"/>).</summary>
    public sealed record Failed(FailureReport Failure) : TaskWorkResult;

    /// <summary>Stopped: the claim ended (a cancel, a lost lease, a stop signal) before the work was done.</summary>
    public sealed record Stopped : TaskWorkResult;

    public static Failed Fail(string error, string? logTail = null) => Reported(error, logTail, retryable: false);

    public static Failed Retry(string error, string? logTail = null) => Reported(error, logTail, retryable: true);

    private static Failed Reported(string error, string? logTail, bool retryable) => new(new FailureReport(
        error.Length > FailureReport.MaxErrorChars ? error[..FailureReport.MaxErrorChars] : error,
        string.IsNullOrWhiteSpace(logTail) ? null : logTail,
        Retryable: retryable));
}
