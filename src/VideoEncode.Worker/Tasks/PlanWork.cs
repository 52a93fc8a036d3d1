using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// A split job's first task (<see cref="TaskKinds.Plan"/>): lists the input's video packets with ffprobe (a read of the
/// file, no decoding) and cuts it into chunks at keyframes (<see cref="SplitPlanner"/>). The plan goes to the host in
/// the finish (<see cref="FinishReport.Plan"/>), which adds a chunk task per cut, the audio task and the join; the
/// result file, <see cref="PlanFile"/>, is the same plan as JSON, for whoever looks at the work folder. A job that
/// cannot be split, or cannot run as asked at all, fails here, before any chunk is encoded.
/// </summary>
public sealed class PlanWork : ITaskWork
{
    public const string PlanFile = "plan.json";

    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        var settings = context.Job.Settings;
        if (context.Task.SplitSeconds is not { } splitSeconds) return TaskWorkResult.Fail("The plan task does not say how long its chunks are (split_seconds).");
        if (Unsplittable(settings, context.Input) is { } problem) return TaskWorkResult.Fail($"The job cannot run as asked: {problem}.");

        var (list, outcome) = await context.Ffmpeg.ListVideoPacketsAsync(context.InputPath,
            SplitRuns.Throttled(context.Progress, context.Input.DurationSeconds), stop);
        if (outcome.Stalled) return TaskWorkResult.Retry($"ffprobe made no progress listing the input's packets for {context.StallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail);
        if (outcome.ExitCode is null) return new TaskWorkResult.Stopped();
        if (list is null) return TaskWorkResult.Fail($"ffprobe cannot list the input's video packets: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail);
        if (list.Untimed > 0)
            return TaskWorkResult.Fail($"{list.Untimed} of the input's video packets have no timestamp, so it cannot be cut by time; encode it without split_seconds.");
        if (!list.Packets.Any(packet => packet.Key)) return TaskWorkResult.Fail("The input's video has no keyframe, so no chunk of it can start anywhere.");

        var plan = SplitPlanner.Plan([.. list.Packets.Select(packet => (packet.Pts, packet.Key))], list.StartTime, splitSeconds);
        var path = Path.Combine(context.WorkFolder, PlanFile);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(plan, WireJson.Options), stop);
        return new TaskWorkResult.Done(path, new FinishReport("", InputBytes: new FileInfo(context.InputPath).Length, Plan: plan));
    }

    /// <summary>Why the job cannot be split, or cannot run at all as asked (what a whole encode refuses before it starts); null when it can.</summary>
    public static string? Unsplittable(EncodeSettings settings, ProbeResult input) =>
        settings.VideoCodec == VideoCodecs.Copy ? "its video is copied, so there is nothing to encode in chunks; drop split_seconds"
            : EncodeArguments.SubtitleProblem(settings, input) ?? EncodeArguments.HdrProblem(settings, input);
}
