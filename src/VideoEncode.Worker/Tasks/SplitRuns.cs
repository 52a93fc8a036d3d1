using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>What the split tasks' works share: how an ffmpeg run's end becomes a task's result, and a file's video packets read back.</summary>
internal static class SplitRuns
{
    /// <summary>
    /// How a run that did not succeed ends the task (null when it succeeded): a stall is retried; a stop is a stop; a
    /// hardware encoder that would not open is retried (another worker, or this one later, may run it); any other
    /// failure says something about the job and fails it, with the command line that ran.
    /// </summary>
    public static TaskWorkResult? Ended(EncodeOutcome outcome, bool progressed, EncodeSettings settings, TimeSpan stallTimeout, string commandLine)
    {
        if (outcome.Stalled) return Retry($"ffmpeg made no progress for {stallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail, commandLine);
        if (outcome.ExitCode is null) return new TaskWorkResult.Stopped();
        if (outcome.Succeeded) return null;
        var why = $"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}";
        return !progressed && EncoderCatalog.Find(settings.Encoder)?.Hardware is not null
            ? Retry($"ffmpeg could not start {settings.Encoder} ({why})", outcome.LogTail, commandLine)
            : WithCommandLine(TaskWorkResult.Fail(why, outcome.LogTail), commandLine);
    }

    /// <summary>
    /// The video packets of a file this task wrote (<see cref="Ffmpeg.ListVideoPacketsAsync"/>), or how reading them
    /// ended the task: a stall or an unreadable file is retried, a stop is a stop.
    /// </summary>
    public static async Task<(IReadOnlyList<(double Pts, bool Key)>? Packets, TaskWorkResult? Ended)> ReadBackAsync(Ffmpeg ffmpeg, string path,
        TimeSpan stallTimeout, CancellationToken stop)
    {
        var (list, outcome) = await ffmpeg.ListVideoPacketsAsync(path, _ => { }, stop);
        if (outcome.Stalled) return (null, TaskWorkResult.Retry($"ffprobe made no progress reading back {Path.GetFileName(path)} for {stallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail));
        if (outcome.ExitCode is null) return (null, new TaskWorkResult.Stopped());
        if (list is null) return (null, TaskWorkResult.Retry($"ffprobe cannot read back {Path.GetFileName(path)}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail));
        return ([.. list.Packets.Select(packet => (packet.Pts, packet.Key))], null);
    }

    public static TaskWorkResult.Failed Retry(string error, string? logTail, string commandLine) =>
        WithCommandLine(TaskWorkResult.Retry(error, logTail), commandLine);

    public static TaskWorkResult.Failed WithCommandLine(TaskWorkResult.Failed failed, string commandLine) =>
        new(failed.Failure with { CommandLine = commandLine });

    /// <summary>A progress report at most once per second of the input: a listing of packets would otherwise report every frame.</summary>
    public static Action<double> Throttled(Action<EncodeProgress> progress, double? totalSeconds)
    {
        var reported = -1L;
        return seconds =>
        {
            if ((long)seconds <= reported) return;
            reported = (long)seconds;
            progress(new EncodeProgress(TimeSpan.FromSeconds(Math.Max(0, seconds)),
                totalSeconds is > 0 and var total ? Math.Clamp(seconds / total * 100, 0, 100) : null, Fps: null, Speed: null, Eta: null));
        };
    }
}
