using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// A thumbnails task (<see cref="TaskKinds.Thumbnails"/>): into the folder "thumbnails" of the work folder, which is the
/// result, it writes <c>{prefix}sprite.jpg</c> (a sheet of one picture every <see cref="ThumbnailsSpec.EverySeconds"/>,
/// <see cref="Storyboard.Layout"/>), <c>{prefix}storyboard.vtt</c> (a cue per picture pointing into the sheet) and
/// <c>{prefix}poster.jpg</c>, the prefix being <see cref="FilePrefix"/>. Two ffmpeg runs: the poster (a seek and one
/// frame), then the sheet (one decode of the whole input, whose progress is the task's).
/// </summary>
public sealed class ThumbnailsWork : ITaskWork
{
    /// <summary>The result's folder, inside the work folder.</summary>
    public const string FolderName = "thumbnails";

    /// <summary>
    /// What the three files' names start with: the task's output name (<see cref="Job.OutputName"/>, the storyboard's
    /// place) without its folder and without "storyboard.vtt" at its end: "movies/a.storyboard.vtt" gives "a.", a
    /// package's "movies/a/storyboard.vtt" gives "". A name that does not end so (an older host's, say) gives its stem and
    /// a dot ("movies/a.mp4": "a."), the input's when there is no output name.
    /// </summary>
    public static string FilePrefix(Job job)
    {
        var name = Path.GetFileName(job.OutputName ?? job.FileName);
        return name.EndsWith(ThumbnailsSpec.Storyboard, StringComparison.Ordinal)
            ? name[..^ThumbnailsSpec.Storyboard.Length]
            : Path.GetFileNameWithoutExtension(name) + ".";
    }

    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        var spec = context.Task.Thumbnails ?? throw new ArgumentException("A thumbnails task carries its thumbnails spec.", nameof(context));
        if (context.Input is not { Width: { } width, Height: { } height, DurationSeconds: { } duration } input || duration <= 0)
            return TaskWorkResult.Fail($"The input '{context.Job.FileName}' has no video of a known size and length to take pictures from.");
        var folder = Path.Combine(context.WorkFolder, FolderName);
        Directory.CreateDirectory(folder);
        var prefix = FilePrefix(context.Job);
        var (sprite, storyboard, poster) = (Path.Combine(folder, prefix + ThumbnailsSpec.Sprite),
            Path.Combine(folder, prefix + ThumbnailsSpec.Storyboard), Path.Combine(folder, prefix + ThumbnailsSpec.Poster));
        // JPEG is SDR: an HDR input's pictures are tone-mapped, or they would look grey.
        var toneMap = input.Hdr != HdrKinds.None;

        var posterArguments = Storyboard.PosterArguments(context.InputPath, poster, duration, width, toneMap);
        var posterLine = context.Ffmpeg.CommandLine(posterArguments);
        // The poster is one frame after a seek: too short a run to report progress of.
        var outcome = await context.Ffmpeg.EncodeAsync(posterArguments, null, _ => { }, stop);
        if (FfmpegEnding.Of(outcome, context.StallTimeout, posterLine) is { } posterEnded) return posterEnded;

        var layout = Storyboard.Layout(spec, duration, width, height);
        var spriteArguments = Storyboard.SpriteArguments(context.InputPath, sprite, layout, toneMap);
        var spriteLine = context.Ffmpeg.CommandLine(spriteArguments);
        outcome = await context.Ffmpeg.EncodeAsync(spriteArguments, duration, context.Progress, stop);
        if (FfmpegEnding.Of(outcome, context.StallTimeout, spriteLine) is { } spriteEnded) return spriteEnded;

        foreach (var picture in new[] { poster, sprite })
            if (!File.Exists(picture) || new FileInfo(picture).Length == 0)
                return FfmpegEnding.Fail($"ffmpeg ended well but wrote no {Path.GetFileName(picture)}.", outcome.LogTail, spriteLine);
        await File.WriteAllTextAsync(storyboard, Storyboard.WebVtt(layout, duration, prefix + ThumbnailsSpec.Sprite), stop);
        return new TaskWorkResult.Done(folder, new FinishReport("", InputBytes: new FileInfo(context.InputPath).Length,
            OutputBytes: new[] { sprite, storyboard, poster }.Sum(file => new FileInfo(file).Length), Result: JobResults.Encoded,
            CommandLine: spriteLine, Codec: "mjpeg", Height: layout.TileHeight));
    }
}
