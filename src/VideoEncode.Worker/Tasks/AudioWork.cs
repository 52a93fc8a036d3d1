using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// The rest of a split job (<see cref="TaskKinds.Audio"/>): everything of the input the job keeps but its video, once —
/// audio encoded as the job asks, subtitles, attachments, chapters and global tags (<see cref="SplitArguments.Rest"/>) —
/// into <see cref="SplitArguments.RestFile"/>: "audio.mp4" (or .mkv, .webm: the job's container, so the join copies
/// it as it is), or, when the job keeps no stream but the video, <see cref="SplitArguments.MetadataFile"/> with the
/// chapters and tags alone. Either way there is a file, and the join reads both the same way.
/// </summary>
public sealed class AudioWork : ITaskWork
{
    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        var settings = context.Job.Settings;
        var output = Path.Combine(context.WorkFolder, SplitArguments.RestFile(settings, context.Input));
        var arguments = SplitArguments.Rest(context.InputPath, output, settings, context.Input);
        var commandLine = context.Ffmpeg.CommandLine(arguments);
        var outcome = await context.Ffmpeg.EncodeAsync(arguments, context.Input.DurationSeconds, context.Progress, stop);
        // The audio encoders are never hardware ones: whether ffmpeg progressed changes nothing.
        if (SplitRuns.Ended(outcome, progressed: true, settings, context.StallTimeout, commandLine) is { } ended) return ended;
        return new TaskWorkResult.Done(output, new FinishReport("", OutputBytes: new FileInfo(output).Length, CommandLine: commandLine));
    }
}
