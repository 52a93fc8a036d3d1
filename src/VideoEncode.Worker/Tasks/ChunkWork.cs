using System.Globalization;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// One chunk of a split job (<see cref="TaskKinds.Chunk"/>): the video of <see cref="JobTask.Frames"/> frames from
/// <see cref="JobTask.StartSeconds"/>, encoded as the job asks (<see cref="SplitArguments.Chunk"/>), into
/// <see cref="SplitArguments.ChunkFile"/>. Its frames are counted afterwards: a chunk one frame short or long would
/// join into a file that stutters or runs long, so a wrong count fails this attempt (retryable), saying both counts.
/// Progress is over the chunk's own length. The finish carries the chunk's size, codec and command line.
/// </summary>
public sealed class ChunkWork : ITaskWork
{
    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        if (context.Task is not { StartSeconds: { } start, EndSeconds: { } end, Frames: { } frames and > 0 })
            return TaskWorkResult.Fail("The chunk task does not say which stretch of the input it encodes (start, end and frames).");
        var settings = context.Job.Settings;
        var output = Path.Combine(context.WorkFolder, SplitArguments.ChunkFile);
        var arguments = SplitArguments.Chunk(context.InputPath, output, settings, context.Input, start, end, frames);
        var commandLine = context.Ffmpeg.CommandLine(arguments);
        var progressed = false;
        var outcome = await context.Ffmpeg.EncodeAsync(arguments, end - start, progress =>
        {
            progressed = true;
            context.Progress(progress);
        }, stop);
        if (SplitRuns.Ended(outcome, progressed, settings, context.StallTimeout, commandLine) is { } ended) return ended;

        var (packets, unread) = await SplitRuns.ReadBackAsync(context.Ffmpeg, output, context.StallTimeout, stop);
        if (unread is not null) return unread;
        if (packets!.Count != frames)
            return SplitRuns.Retry($"The chunk from {Seconds(start)} s to {Seconds(end)} s came out with {packets.Count} frames where the input has {frames} there; " +
                "it would not join frame-exact", outcome.LogTail, commandLine);
        return new TaskWorkResult.Done(output, new FinishReport("", OutputBytes: new FileInfo(output).Length, CommandLine: commandLine,
            Codec: EncodeArguments.OutputVideoCodec(settings, context.Input.VideoCodec)));
    }

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
