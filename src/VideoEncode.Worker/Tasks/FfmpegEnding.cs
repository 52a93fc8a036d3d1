using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>How a task's ffmpeg run that did not succeed ends the task, as a plain job's encode would (JobRunner's mapping).</summary>
internal static class FfmpegEnding
{
    /// <summary>
    /// Null when ffmpeg succeeded. A run that made no progress for the stall timeout may fare better on another
    /// attempt; one stopped by the claim's end is Stopped; a nonzero exit says something about the job.
    /// </summary>
    public static TaskWorkResult? Of(EncodeOutcome outcome, TimeSpan stallTimeout, string commandLine)
    {
        if (outcome.Stalled)
            return TaskWorkResult.Retry($"ffmpeg made no progress for {stallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail);
        if (outcome.ExitCode is null) return new TaskWorkResult.Stopped();
        if (outcome.Succeeded) return null;
        return Fail($"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail, commandLine);
    }

    /// <summary>A failure for good that carries the command line that ran, as a plain job's does.</summary>
    public static TaskWorkResult.Failed Fail(string error, string? logTail, string commandLine) =>
        new(TaskWorkResult.Fail(error, logTail).Failure with { CommandLine = commandLine });
}
