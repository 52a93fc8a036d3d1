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
public sealed class JobRunner(QueueClient queue, Ffmpeg ffmpeg, MediaPaths paths, ConsoleOutput console)
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
        using var claim = new ClaimKeeper(queue, job, abort);
        var result = await EncodeAsync(job, claim, abort);
        await claim.StopAsync();
        // A cancel or a lost claim explains why the encode stopped; a result that was already
        // complete is still reported (and the host decides what it is worth).
        if (result is Stopped && claim.Interruption is { } why) result = why;
        try
        {
            switch (result)
            {
                case Encoded encoded:
                    await queue.FinishAsync(job.Id, token, abort);
                    console.Info($"Job {job.Id}: finished, wrote {encoded.Output}.");
                    break;
                case Failed failed:
                    await queue.FailAsync(job.Id, failed.Report with { ClaimToken = token }, abort);
                    console.Warn($"Job {job.Id}: failed: {failed.Report.Error}");
                    break;
                case Cancelled:
                    await queue.AcknowledgeCancelAsync(job.Id, token, abort);
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

    private async Task<Result> EncodeAsync(Job job, ClaimKeeper claim, CancellationToken abort)
    {
        var (resolved, problem) = paths.Resolve(job);
        if (resolved is null) return Fail(problem!);
        console.Started(job.Id, job.FileName);
        try
        {
            var input = await ffmpeg.ProbeAsync(resolved.Input, claim.Stop);
            if (!input.Readable)
                return Fail(File.Exists(resolved.Input)
                    ? $"Cannot read the input '{job.FileName}': {Ffmpeg.LastLine(input.LogTail)}"
                    : $"The input file '{job.FileName}' does not exist in the input folder.", input.LogTail);
            if (input.VideoCodec is null)
                return Fail($"The input '{job.FileName}' has no video stream.", input.LogTail);

            Directory.CreateDirectory(Path.GetDirectoryName(resolved.Output)!);
            var arguments = Ffmpeg.EncodeArguments(resolved.Input, resolved.Temporary, job.Crf, job.Preset);
            var outcome = await ffmpeg.EncodeAsync(arguments, input.DurationSeconds, progress =>
            {
                claim.Latest = progress;
                console.Progress(job.Id, progress);
            }, claim.Stop);
            if (outcome.ExitCode is null) return new Stopped();
            if (!outcome.Succeeded)
                return Fail($"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail);

            var result = await ffmpeg.ProbeAsync(resolved.Temporary, claim.Stop);
            if (OutputProblem(input, result) is { } wrong)
                return Fail($"The encoded file failed its check: {wrong}", outcome.LogTail + result.LogTail);

            // Durable before visible: a crash after the rename must not leave an empty "result".
            using (var written = new FileStream(resolved.Temporary, FileMode.Open, FileAccess.ReadWrite))
                written.Flush(flushToDisk: true);
            File.Move(resolved.Temporary, resolved.Output, overwrite: true);
            return new Encoded(resolved.Output);
        }
        catch (OperationCanceledException) when (claim.Stop.IsCancellationRequested)
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

    /// <summary>
    /// Keeps the claim alive while the job runs: a heartbeat every second (a third of the lease if
    /// that is shorter), carrying progress, speed and time left, so a cancel stops the encode
    /// within about a second. Stops the encode when the host says the job was cancelled or the claim is gone, or
    /// on the worker's own abort. Heartbeats that cannot reach the host are retried; the encode goes on.
    /// </summary>
    private sealed class ClaimKeeper : IDisposable
    {
        private readonly CancellationTokenSource stop;
        private readonly CancellationTokenSource done = new();
        private readonly Task loop;

        public ClaimKeeper(QueueClient queue, Job job, CancellationToken abort)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
            loop = job.LeaseExpiresAt is { } expires && job.ClaimToken is { } token
                ? Task.Run(() => BeatAsync(queue, job.Id, token, LeaseLength(expires)))
                : Task.CompletedTask;
        }

        /// <summary>Fires when the encode must stop: abort, cancel requested, or claim lost.</summary>
        public CancellationToken Stop => stop.Token;

        /// <summary>The encode's latest progress, sent with the next heartbeat.</summary>
        public EncodeProgress? Latest { get; set; }

        /// <summary>Why the host stopped the job (cancelled or lost), if it did.</summary>
        public Result? Interruption { get; private set; }

        private static TimeSpan LeaseLength(long expiresAt) =>
            TimeSpan.FromSeconds(Math.Max(3, expiresAt - DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

        private async Task BeatAsync(QueueClient queue, long id, string token, TimeSpan lease)
        {
            var interval = TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 3, 0.5, 1));
            try
            {
                while (true)
                {
                    await Task.Delay(interval, done.Token);
                    var latest = Latest;
                    var report = new Heartbeat(token, latest?.Percent, latest?.Speed,
                        latest?.Eta is { } eta ? (long)Math.Round(eta.TotalSeconds) : null);
                    var state = await queue.HeartbeatAsync(id, report, done.Token);
                    if (state?.CancelRequested == true) Interrupt(new Cancelled());
                }
            }
            catch (QueueRejectedException e)
            {
                Interrupt(new Lost($"the host no longer holds this claim ({e.Message})"));
            }
            catch (OperationCanceledException)
            {
                // The job ended; no more heartbeats.
            }
        }

        private void Interrupt(Result why)
        {
            Interruption ??= why;
            stop.Cancel();
            done.Cancel();
        }

        public async Task StopAsync()
        {
            await done.CancelAsync();
            await loop;
        }

        public void Dispose()
        {
            stop.Dispose();
            done.Dispose();
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
