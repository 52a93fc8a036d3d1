using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>
/// Takes one claimed job to its end: resolve its paths, check the input, encode to a temporary
/// file, check the result, move it into place, and tell the host — finished, failed with the
/// reason and ffmpeg's log tail, or (when stopped by a second Ctrl-C) put back in the queue.
/// </summary>
public sealed class JobRunner(QueueClient queue, Ffmpeg ffmpeg, MediaPaths paths, ConsoleOutput console)
{
    /// <summary>How far the result's duration may stray from the input's.</summary>
    public const double DurationToleranceSeconds = 0.5;

    private abstract record Result;
    private sealed record Encoded(string Output) : Result;
    private sealed record Failed(FailureReport Report) : Result;
    private sealed record Stopped : Result;

    public async Task RunAsync(Job job, CancellationToken abort)
    {
        console.Info($"Job {job.Id}: encoding {job.FileName} (crf {job.Crf}, preset {job.Preset}).");
        var result = await EncodeAsync(job, abort);
        try
        {
            switch (result)
            {
                case Encoded encoded:
                    await queue.FinishAsync(job.Id, abort);
                    console.Info($"Job {job.Id}: finished, wrote {encoded.Output}.");
                    break;
                case Failed failed:
                    await queue.FailAsync(job.Id, failed.Report, abort);
                    console.Warn($"Job {job.Id}: failed: {failed.Report.Error}");
                    break;
                case Stopped:
                    await GiveBackAsync(job);
                    break;
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            console.Warn($"Job {job.Id}: stopped before the host heard the result; it stays in progress on the host.");
        }
        catch (QueueRejectedException e)
        {
            // 404: the job was deleted or reset while we worked on it; nothing left to report to.
            console.Warn($"Job {job.Id}: the host refused the result: {e.Message}");
        }
    }

    private async Task GiveBackAsync(Job job)
    {
        // Deliberately not the abort token: it has fired, and the job must still be released.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await queue.ResetAsync(job.Id, grace.Token);
            console.Info($"Job {job.Id}: stopped and put back in the queue.");
        }
        catch (Exception e) when (e is OperationCanceledException or QueueRejectedException)
        {
            console.Warn($"Job {job.Id}: stopped, but could not put it back in the queue ({e.Message}); reset it by hand.");
        }
    }

    private async Task<Result> EncodeAsync(Job job, CancellationToken abort)
    {
        var (resolved, problem) = paths.Resolve(job);
        if (resolved is null) return Fail(problem!);
        console.Started(job.Id, job.FileName);
        try
        {
            var input = await ffmpeg.ProbeAsync(resolved.Input, abort);
            if (!input.Readable)
                return Fail(File.Exists(resolved.Input)
                    ? $"Cannot read the input '{job.FileName}': {Ffmpeg.LastLine(input.LogTail)}"
                    : $"The input file '{job.FileName}' does not exist in the input folder.", input.LogTail);
            if (input.VideoCodec is null)
                return Fail($"The input '{job.FileName}' has no video stream.", input.LogTail);

            Directory.CreateDirectory(Path.GetDirectoryName(resolved.Output)!);
            var arguments = Ffmpeg.EncodeArguments(resolved.Input, resolved.Temporary, job.Crf, job.Preset);
            var outcome = await ffmpeg.EncodeAsync(arguments, input.DurationSeconds, progress => console.Progress(job.Id, progress), abort);
            if (outcome.ExitCode is null) return new Stopped();
            if (!outcome.Succeeded)
                return Fail($"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail);

            var result = await ffmpeg.ProbeAsync(resolved.Temporary, abort);
            if (OutputProblem(input, result) is { } wrong)
                return Fail($"The encoded file failed its check: {wrong}", outcome.LogTail + result.LogTail);

            // Durable before visible: a crash after the rename must not leave an empty "result".
            using (var written = new FileStream(resolved.Temporary, FileMode.Open, FileAccess.ReadWrite))
                written.Flush(flushToDisk: true);
            File.Move(resolved.Temporary, resolved.Output, overwrite: true);
            return new Encoded(resolved.Output);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            return new Stopped();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"File error: {e.Message}");
        }
        finally
        {
            console.Ended(job.Id);
            TryDelete(resolved.Temporary);
        }
    }

    private static string? OutputProblem(ProbeResult input, ProbeResult output)
    {
        if (!output.Readable) return $"ffprobe cannot read it ({Ffmpeg.LastLine(output.LogTail)})";
        if (output.VideoCodec != "h264") return $"expected an H.264 video stream, found {output.VideoCodec ?? "none"}";
        if (input.DurationSeconds is { } expected)
        {
            if (output.DurationSeconds is not { } actual) return "it has no duration";
            if (Math.Abs(actual - expected) > DurationToleranceSeconds)
                return $"it lasts {actual:0.##} s where the input lasts {expected:0.##} s";
        }
        return null;
    }

    private static Failed Fail(string error, string? logTail = null) => new(new FailureReport(
        error.Length > FailureReport.MaxErrorChars ? error[..FailureReport.MaxErrorChars] : error,
        string.IsNullOrWhiteSpace(logTail) ? null : logTail));

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.Warn($"Could not remove the temporary file {path}: {e.Message}");
        }
    }
}
