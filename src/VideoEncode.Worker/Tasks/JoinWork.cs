using System.Globalization;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// A split job's last task (<see cref="TaskKinds.Join"/>): fetches its parts (<see cref="JobTask.Parts"/>: the chunks in
/// time order, then the audio task's result), copies the chunks one after another (the concat demuxer) and the rest's
/// streams, chapters and tags into "output" + the container's extension (<see cref="SplitArguments.Join"/>), without
/// encoding anything again. Then it holds the whole to what a whole encode is held to, and more: as many video frames
/// as the chunks were cut with and as the input shows, lasting as long as the input's video within one frame, and the
/// <see cref="QualityGate"/> against the input (streams kept, duration, a full decode, SSIM and PSNR when asked).
/// Frames or duration wrong fail the job for good: joining the same chunks again would give the same file. With
/// skip_if_larger, a joined file not smaller than the input finishes the task with <see cref="JobResults.KeptOriginal"/>
/// before any check, as a whole encode does: its result is then not to be placed nor uploaded.
/// </summary>
public sealed class JoinWork : ITaskWork
{
    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        var (settings, input) = (context.Job.Settings, context.Input);
        var parts = context.Task.Parts ?? [];
        var chunks = parts.Where(part => part.Kind == TaskKinds.Chunk).ToList();
        var rests = parts.Where(part => part.Kind == TaskKinds.Audio).ToList();
        if (chunks.Count == 0 || rests.Count != 1 || chunks.Any(chunk => chunk.Frames is null))
            return TaskWorkResult.Fail($"The join's parts are {chunks.Count} chunks and {rests.Count} audio parts; it needs chunks that say their frames, and one audio part.");

        var chunkPaths = new List<string>();
        foreach (var chunk in chunks) chunkPaths.Add(await context.FetchPart(chunk, stop));
        var rest = await context.FetchPart(rests[0], stop);
        if (SplitArguments.ConcatList(chunkPaths) is not { } list)
            return TaskWorkResult.Fail("A chunk's path holds a control character, which the list of chunks cannot carry.");
        var listPath = Path.Combine(context.WorkFolder, SplitArguments.ChunkListFile);
        await File.WriteAllTextAsync(listPath, list, stop);

        var output = Path.Combine(context.WorkFolder, "output" + FileNames.OutputExtension(settings.Container));
        var arguments = SplitArguments.Join(listPath, rest, output, settings, input);
        var commandLine = context.Ffmpeg.CommandLine(arguments);
        var outcome = await context.Ffmpeg.EncodeAsync(arguments, input.DurationSeconds, context.Progress, stop);
        if (SplitRuns.Ended(outcome, progressed: true, settings, context.StallTimeout, commandLine) is { } ended) return ended;

        // skip_if_larger, as a whole encode has it: a result not smaller than the input counts for nothing, and nothing else is checked.
        var (inputBytes, outputBytes) = (new FileInfo(context.InputPath).Length, new FileInfo(output).Length);
        if (settings.SkipIfLarger && outputBytes >= inputBytes)
            return new TaskWorkResult.Done(output, new FinishReport("", InputBytes: inputBytes, OutputBytes: outputBytes, Result: JobResults.KeptOriginal,
                CommandLine: commandLine));

        if (await CheckFramesAsync(context, output, chunks.Sum(chunk => chunk.Frames!.Value), commandLine, stop) is { } wrong) return wrong;

        var verdict = await new QualityGate(context.Ffmpeg, context.StallTimeout).CheckAsync(settings, context.InputPath, input, output, context.Progress, stop);
        var scores = verdict switch
        {
            GateVerdict.Passed passed => passed.Scores,
            _ => null,
        };
        if (scores is null)
            return verdict switch
            {
                GateVerdict.Rejected rejected => SplitRuns.WithCommandLine(TaskWorkResult.Fail($"The joined file failed its check: {rejected.Why}", rejected.LogTail), commandLine),
                GateVerdict.Unfinished unfinished => SplitRuns.Retry($"The joined file could not be checked: {unfinished.Why}", unfinished.LogTail, commandLine),
                _ => new TaskWorkResult.Stopped(),
            };

        var joined = await context.Ffmpeg.ProbeAsync(output, stop);
        return new TaskWorkResult.Done(output, new FinishReport("", InputBytes: inputBytes, OutputBytes: outputBytes,
            Ssim: scores.Ssim, Psnr: QualityMeasure.Reported(scores.Psnr), Result: JobResults.Encoded, CommandLine: commandLine,
            Codec: joined.VideoCodec, Height: joined.Height));
    }

    /// <summary>
    /// The joined file's video against its chunks and the input (<see cref="FramesProblem"/>), both read back packet by
    /// packet; null when it holds, else how the task ends: failed for good, or as a read-back ends.
    /// </summary>
    private static async Task<TaskWorkResult?> CheckFramesAsync(TaskContext context, string output, long chunkFrames, string commandLine, CancellationToken stop)
    {
        var (joined, unread) = await SplitRuns.ReadBackAsync(context.Ffmpeg, output, context.StallTimeout, stop);
        if (unread is not null) return unread;
        var (input, inputUnread) = await SplitRuns.ReadBackAsync(context.Ffmpeg, context.InputPath, context.StallTimeout, stop);
        if (inputUnread is not null) return inputUnread;
        return FramesProblem(SplitPlanner.Span(joined!), chunkFrames, SplitPlanner.Span(input!)) is { } problem
            ? SplitRuns.WithCommandLine(TaskWorkResult.Fail($"The joined file failed its check: {problem}"), commandLine)
            : null;
    }

    /// <summary>The rule itself: the joined video has the chunks' frames, the input's, and the input's length within one frame.</summary>
    public static string? FramesProblem((long Frames, double Seconds) joined, long chunkFrames, (long Frames, double Seconds) input)
    {
        if (joined.Frames != chunkFrames) return $"it has {joined.Frames} video frames where its chunks have {chunkFrames}";
        if (joined.Frames != input.Frames) return $"it has {joined.Frames} video frames where the input has {input.Frames}";
        var frame = input.Seconds / Math.Max(1, input.Frames);
        // A millisecond more: Matroska chunks keep their times in milliseconds.
        return Math.Abs(joined.Seconds - input.Seconds) <= frame + 0.001 ? null
            : $"its video lasts {Seconds(joined.Seconds)} s where the input's lasts {Seconds(input.Seconds)} s, more than a frame ({Seconds(frame)} s) apart";
    }

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
