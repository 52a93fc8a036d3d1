using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>
/// Takes one claimed job to its end: resolve its paths, check the input, encode to a temporary
/// file while sending heartbeats, check the result, move it into place, and tell the host —
/// finished, failed with the reason and ffmpeg's log tail, cancelled when someone asked, or
/// given back (released) when stopped by a second Ctrl-C. If the host says the claim is no
/// longer ours (the lease lapsed and another worker took the job, or it was deleted), the encode
/// stops and nothing is reported.
/// </summary>
public sealed class JobRunner(QueueClient queue, Ffmpeg ffmpeg, MediaPaths paths, RunFiles runFiles, WorkerSettings settings, ConsoleOutput console)
{
    /// <summary>How far the result's duration may stray from the input's.</summary>
    public const double DurationToleranceSeconds = 0.5;

    private abstract record Result;
    private sealed record Encoded(string Output) : Result;
    private sealed record Failed(FailureReport Report) : Result;
    private sealed record Stopped : Result;
    private sealed record Cancelled : Result;
    private sealed record Lost(string Why) : Result;

    public async Task RunAsync(Job job, CancellationToken abort)
    {
        console.Info($"Job {job.Id}: encoding {job.FileName} (crf {job.Crf}, preset {job.Preset}, attempt {job.Attempts} of {job.MaxAttempts}).");
        var token = job.ClaimToken ?? "";
        using var claim = new ClaimKeeper(queue, job, console, abort);
        var result = await EncodeAsync(job, claim);
        await claim.StopAsync();
        // A cancel or a lost claim explains why the encode stopped; a result that was already
        // complete is still reported (and the host decides what it is worth).
        if (result is Stopped)
            result = claim.Interruption switch
            {
                Interruption.CancelRequested => new Cancelled(),
                Interruption.ClaimLost lost => new Lost(lost.Why),
                _ => result,
            };
        try
        {
            switch (result)
            {
                case Encoded encoded:
                    await queue.FinishAsync(job.Id, token, abort, claim.ResultRetryDelay);
                    console.Info($"Job {job.Id}: finished, wrote {encoded.Output}.");
                    break;
                case Failed failed:
                    await queue.FailAsync(job.Id, failed.Report with { ClaimToken = token }, abort, claim.ResultRetryDelay);
                    console.Warn($"Job {job.Id}: failed{(failed.Report.Retryable ? " (it may be tried again)" : "")}: {failed.Report.Error}");
                    break;
                case Cancelled:
                    await queue.AcknowledgeCancelAsync(job.Id, token, abort, claim.ResultRetryDelay);
                    console.Info($"Job {job.Id}: cancelled on request; its temporary file is removed.");
                    break;
                case Lost lost:
                    console.Warn($"Job {job.Id}: stopped: {lost.Why}");
                    break;
                case Stopped:
                    await GiveBackAsync(job, token);
                    break;
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            console.Warn($"Job {job.Id}: stopped before the host heard the result; its lease will return it to the queue.");
        }
        catch (QueueRejectedException e)
        {
            // 409: our claim lapsed and the job moved on; 404: it was deleted. Nothing left to report to.
            console.Warn($"Job {job.Id}: the host refused the result: {e.Message}");
        }
    }

    private async Task GiveBackAsync(Job job, string token)
    {
        // Deliberately not the abort token: it has fired, and the job must still be given back.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await queue.ReleaseAsync(job.Id, token, grace.Token);
            console.Info($"Job {job.Id}: stopped and given back to the queue.");
        }
        catch (Exception e) when (e is OperationCanceledException or QueueRejectedException)
        {
            console.Warn($"Job {job.Id}: stopped, but could not give it back ({e.Message}); its lease will return it to the queue.");
        }
    }

    private async Task<Result> EncodeAsync(Job job, ClaimKeeper claim)
    {
        var (resolved, problem) = paths.Resolve(job);
        if (resolved is null) return Fail(problem!);
        if (OutputPlacement.Refusal(resolved, job.Overwrite) is { } refusal) return Fail(refusal);
        console.Started(job.Id, job.FileName);
        string? temporary = null;
        try
        {
            if (await Playlists.SniffFileAsync(resolved.Input).WaitAsync(settings.StallTimeout, claim.Stop) is { } playlist)
                return Fail(RefusedPlaylist(job, playlist));
            var input = await ffmpeg.ProbeAsync(resolved.Input, claim.Stop);
            if (input.TimedOut) return Retry(ProbeTimedOut(), input.LogTail);
            if (!input.Readable)
                return Fail(File.Exists(resolved.Input)
                    ? $"Cannot read the input '{job.FileName}': {Ffmpeg.LastLine(input.LogTail)}"
                    : $"The input file '{job.FileName}' does not exist in the input folder.", input.LogTail);
            if (Playlists.Format(input.FormatName) is { } format)
                return Fail(RefusedPlaylist(job, $"ffmpeg reads it as a playlist ('{format}')"), input.LogTail);
            if (input.VideoCodec is null)
                return Fail($"The input '{job.FileName}' has no video stream.", input.LogTail);

            Directory.CreateDirectory(Path.GetDirectoryName(resolved.Output)!);
            try
            {
                temporary = runFiles.CreateTemporary(resolved.Output, job.Id);
            }
            catch (IOException e)
            {
                return Retry($"Could not create a temporary file beside the output: {e.Message}");
            }
            var arguments = Ffmpeg.EncodeArguments(resolved.Input, temporary, job.Crf, job.Preset);
            var outcome = await ffmpeg.EncodeAsync(arguments, input.DurationSeconds, progress =>
            {
                claim.Latest = progress;
                console.Progress(job.Id, progress);
            }, claim.Stop);
            if (outcome.Stalled)
                return Retry($"ffmpeg made no progress for {settings.StallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail);
            if (outcome.ExitCode is null) return new Stopped();
            if (!outcome.Succeeded)
                return Fail($"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail);

            var result = await ffmpeg.ProbeAsync(temporary, claim.Stop);
            if (result.TimedOut) return Retry(ProbeTimedOut(), outcome.LogTail + result.LogTail);
            if (OutputProblem(input, result) is { } wrong)
                return Fail($"The encoded file failed its check: {wrong}", outcome.LogTail + result.LogTail);

            // What goes into place is the file this run created, not something swapped in since.
            if (!RunFiles.IsPlainFile(temporary))
                return Fail($"The temporary file {temporary} was replaced by a link or removed while ffmpeg wrote it; nothing was put in place.");
            // Durable before visible: a crash after the rename must not leave an empty "result".
            using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite))
                written.Flush(flushToDisk: true);
            // A run whose claim lapsed while it encoded must not put its file where the job's
            // current run will put its own.
            if (!await claim.StillOursAsync()) return new Stopped();
            if (OutputPlacement.Place(temporary, resolved, job.Overwrite) is { } refused) return Fail(refused);
            temporary = null;
            // The rename, too, is on disk before the host hears "finished".
            Durable.FlushFolders(Path.GetDirectoryName(resolved.Output)!, settings.Output);
            return new Encoded(resolved.Output);
        }
        catch (OperationCanceledException) when (claim.Stop.IsCancellationRequested)
        {
            return new Stopped();
        }
        catch (TimeoutException)
        {
            return Retry($"The input's first bytes could not be read within {settings.StallTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"File error: {e.Message}");
        }
        finally
        {
            console.Ended(job.Id);
            // Only this run's own file: another run of the same job has its own.
            if (temporary is not null) TryDelete(temporary);
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

    private static string RefusedPlaylist(Job job, string why) =>
        $"The input '{job.FileName}' is refused: {why}. Playlists are not encoded: they make ffmpeg read other files.";

    private string ProbeTimedOut() => $"ffprobe did not answer within {settings.StallTimeout.TotalSeconds:0.#} s; stopped";

    /// <summary>A failure that says something about the job: trying again would fail again.</summary>
    private static Failed Fail(string error, string? logTail = null) => Report(error, logTail, retryable: false);

    /// <summary>A failure of this attempt (a hang, a clash): the host puts the job back while attempts remain.</summary>
    private static Failed Retry(string error, string? logTail = null) => Report(error, logTail, retryable: true);

    private static Failed Report(string error, string? logTail, bool retryable) => new(new FailureReport(
        error.Length > FailureReport.MaxErrorChars ? error[..FailureReport.MaxErrorChars] : error,
        string.IsNullOrWhiteSpace(logTail) ? null : logTail,
        Retryable: retryable));

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
