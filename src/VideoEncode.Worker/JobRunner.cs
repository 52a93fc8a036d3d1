using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;
using VideoEncode.Worker.Transfers;

namespace VideoEncode.Worker;

/// <summary>
/// Takes one claimed job to its end: resolve its paths, check the input, encode to a temporary
/// file while sending heartbeats, check the result, move it into place, and tell the host —
/// finished, failed with the reason and ffmpeg's log tail, cancelled when someone asked, or
/// given back (released) when stopped by a second Ctrl-C. If the host says the claim is no
/// longer ours (the lease lapsed and another worker took the job, or it was deleted), the encode
/// stops and nothing is reported.
/// <para>
/// A job whose input was uploaded to the host (a store job) runs in the scratch folder instead: the
/// input is downloaded, encoded beside it, and the result uploaded; the finish names that upload.
/// Shared-folder jobs need <paramref name="paths"/> and <paramref name="runFiles"/>, which a worker
/// without --input/--output does not have (and it claims no such jobs).
/// </para>
/// </summary>
public sealed partial class JobRunner(QueueClient queue, Ffmpeg ffmpeg, MediaPaths? paths, RunFiles? runFiles, ScratchSpace scratch,
    InputDownload download, ResultUpload upload, WorkerSettings settings, ConsoleOutput console, IReadOnlyDictionary<string, ITaskWork>? works = null)
{
    private abstract record Result;
    /// <summary>Done: the result is at <paramref name="Output"/> (a path, or the upload that holds it), with what the finish reports.</summary>
    private sealed record Encoded(string Output, FinishReport Report) : Result;
    /// <summary>skip_if_larger: the encode was not smaller than the input and is gone; the finish says so.</summary>
    private sealed record KeptOriginal(FinishReport Report) : Result;
    private sealed record Failed(FailureReport Report) : Result;
    private sealed record Stopped : Result;
    private sealed record Cancelled : Result;
    private sealed record Lost(string Why) : Result;

    public async Task RunAsync(Job job, CancellationToken abort)
    {
        console.Info(job.Task is { } task
            ? $"Job {task.JobId}, task {task.Index} ({task.Kind}, id {job.Id}): {job.FileName} ({EncodeArguments.Describe(job.Settings)}; attempt {job.Attempts} of {job.MaxAttempts})."
            : $"Job {job.Id}: encoding {job.FileName} ({EncodeArguments.Describe(job.Settings)}; attempt {job.Attempts} of {job.MaxAttempts}).");
        var token = job.ClaimToken ?? "";
        using var claim = new ClaimKeeper(queue, job, console, abort);
        var result = UnknownContainer(job) ?? (job.Task is { Kind: not TaskKinds.Encode } ? await RunTaskAsync(job, claim)
            : job.UploadId is null ? await EncodeSharedAsync(job, claim) : await EncodeStoredAsync(job, claim));
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
        // The report of the result (finish, fail, cancel confirmed, give back) is the attempt's last step.
        using var report = JobTracing.Step("finish");
        report?.SetTag("videoencode.result", result.GetType().Name);
        try
        {
            switch (result)
            {
                case Encoded encoded:
                    await queue.FinishAsync(job.Id, encoded.Report with { ClaimToken = token, Hdr = claim.Hdr, InputSeconds = claim.InputSeconds }, abort, claim.ResultRetryDelay);
                    console.Info($"Job {job.Id}: finished, wrote {encoded.Output}.");
                    break;
                case KeptOriginal kept:
                    await queue.FinishAsync(job.Id, kept.Report with { ClaimToken = token, Hdr = claim.Hdr, InputSeconds = claim.InputSeconds }, abort, claim.ResultRetryDelay);
                    console.Info($"Job {job.Id}: finished, keeping the original: the encode ({kept.Report.OutputBytes} bytes) was not smaller than the input ({kept.Report.InputBytes} bytes).");
                    break;
                case Failed failed:
                    await queue.FailAsync(job.Id, failed.Report with { ClaimToken = token, Hdr = claim.Hdr }, abort, claim.ResultRetryDelay);
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

    private async Task<Result> EncodeSharedAsync(Job job, ClaimKeeper claim)
    {
        if (paths is null || runFiles is null)
            return Fail($"This worker has no shared folder (--input/--output), and the input '{job.FileName}' is not in the host's media store.");
        var (resolved, problem) = paths.Resolve(job);
        if (resolved is null) return Fail(problem!);
        if (OutputPlacement.Refusal(resolved, job.Overwrite) is { } refusal) return Fail(refusal);
        console.Started(job.Id, job.FileName);
        string? temporary = null;
        try
        {
            var (input, unusable) = await CheckInputAsync(job, resolved.Input, claim);
            if (unusable is not null) return unusable;

            Directory.CreateDirectory(Path.GetDirectoryName(resolved.Output)!);
            try
            {
                temporary = runFiles.CreateTemporary(resolved.Output, job.Id);
            }
            catch (IOException e)
            {
                return Retry($"Could not create a temporary file beside the output: {e.Message}");
            }
            var (commandLine, ended, scores) = await EncodeCheckedAsync(job, resolved.Input, input!, temporary, claim);
            if (ended is not null) return ended;

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
            return new Encoded(resolved.Output, await WithResultFactsAsync(job, resolved.Output, new FinishReport("", InputBytes: new FileInfo(resolved.Input).Length,
                OutputBytes: new FileInfo(resolved.Output).Length, Ssim: scores.Ssim, Psnr: QualityMeasure.Reported(scores.Psnr), Result: JobResults.Encoded,
                CommandLine: commandLine), claim));
        }
        catch (Exception e) when (Stopping(e, claim) is { } stopped)
        {
            return stopped;
        }
        finally
        {
            console.Ended(job.Id);
            // Only this run's own file: another run of the same job has its own.
            if (temporary is not null) TryDelete(temporary);
        }
    }

    /// <summary>
    /// A store job, in a scratch folder of its own: download the input (checked against its SHA-256),
    /// encode it there, upload the result, and answer the upload for the finish. The folder goes
    /// whatever happens; a kill -9 leaves it to the next worker that starts on this scratch folder.
    /// </summary>
    private Task<Result> EncodeStoredAsync(Job job, ClaimKeeper claim) => InScratchRunAsync(job, claim, async folder =>
    {
        var input = Path.Combine(folder, "input" + SafeExtension(job.FileName));
        // The container is a known one (UnknownContainer), so the name is "output.mp4" and the like, never a path.
        var output = Path.Combine(folder, "output" + FileNames.OutputExtension(job.Settings.Container));
        claim.Phase = JobPhase.Downloading;
        using (JobTracing.Step("download"))
            await download.DownloadAsync(job, input, settings.TransferLimit, progress => Report(job.Id, claim, progress), claim.Stop);
        var (probed, unusable) = await CheckInputAsync(job, input, claim);
        if (unusable is not null) return unusable;
        claim.Phase = JobPhase.Encoding;
        claim.Latest = null;
        var (commandLine, ended, scores) = await EncodeCheckedAsync(job, input, probed!, output, claim);
        if (ended is not null) return ended;
        var facts = await WithResultFactsAsync(job, output, new FinishReport(""), claim);
        // Heartbeats go on during the upload: a claim lost meanwhile stops it, and the finish is fenced by the token anyway.
        claim.Phase = JobPhase.Uploading;
        claim.Latest = null;
        var resultName = Path.GetFileName(job.OutputName ?? FileNames.DefaultOutputName(job.FileName, job.Settings.Container));
        string uploaded;
        using (JobTracing.Step("upload"))
            uploaded = await upload.UploadAsync(job.Id, output, resultName, settings.TransferLimit, progress => Report(job.Id, claim, progress), claim.Stop);
        return new Encoded($"upload {uploaded} on the host", new FinishReport("", uploaded, new FileInfo(input).Length, new FileInfo(output).Length,
            scores.Ssim, QualityMeasure.Reported(scores.Psnr), JobResults.Encoded, commandLine, Codec: facts.Codec, Height: facts.Height));
    });

    /// <summary>
    /// Runs <paramref name="run"/> in a scratch folder of its own, with room held for its input and result: a store job's
    /// encode, a task's work. A failed transfer, a full scratch disk and a stop end the run as a result; the folder goes
    /// whatever happens, and a kill -9 leaves it to the next worker that starts on this scratch folder.
    /// </summary>
    private async Task<Result> InScratchRunAsync(Job job, ClaimKeeper claim, Func<string, Task<Result>> run)
    {
        console.Started(job.Id, job.FileName);
        using var room = scratch.Reserve(job.InputBytes ?? 0);
        var folder = scratch.NewRunFolder(job.Id);
        try
        {
            return await run(folder);
        }
        catch (TransferFailedException e)
        {
            return e.Retryable ? Retry(e.Message) : Fail(e.Message);
        }
        catch (IOException e) when (!claim.Stop.IsCancellationRequested)
        {
            // The scratch folder's disk (full, say): another worker, or this one later, may have room.
            return Retry($"Scratch folder error: {e.Message}");
        }
        catch (Exception e) when (Stopping(e, claim) is { } stopped)
        {
            return stopped;
        }
        finally
        {
            console.Ended(job.Id);
            if (!ScratchSpace.TryDelete(folder)) console.Warn($"Could not remove the scratch folder {folder}; the next worker to start removes it.");
        }
    }

    /// <summary>
    /// An output of a job made of tasks says what it is (its video codec and height, for the job's list of outputs), as a
    /// probe of the result finds it; a plain job's finish stays as it was, without the extra probe.
    /// </summary>
    private async Task<FinishReport> WithResultFactsAsync(Job job, string result, FinishReport report, ClaimKeeper claim)
    {
        if (job.Task is null) return report;
        var probed = await ffmpeg.ProbeAsync(result, claim.Stop);
        return report with { Codec = probed.VideoCodec, Height = probed.Height };
    }

    /// <summary>
    /// A job whose container this worker does not know fails for good before anything is touched: the container
    /// names the muxer and the output's extension, so one from a newer host or a row edited by hand (with path
    /// characters, even) must never reach a file name. Another attempt would meet the same container.
    /// </summary>
    private static Failed? UnknownContainer(Job job) => Containers.All.Contains(job.Settings.Container)
        ? null
        : Fail($"The job's container '{job.Settings.Container}' is not one this worker knows ({string.Join(", ", Containers.All)}).");

    /// <summary>How an encode that threw ends: stopped (the claim ended), retried (a hung read), failed (a file error); null for anything else.</summary>
    private Result? Stopping(Exception e, ClaimKeeper claim) => e switch
    {
        OperationCanceledException when claim.Stop.IsCancellationRequested => new Stopped(),
        TimeoutException => Retry($"The input's first bytes could not be read within {settings.StallTimeout.TotalSeconds:0.#} s"),
        IOException or UnauthorizedAccessException => Fail($"File error: {e.Message}"),
        _ => null,
    };

    /// <summary>A transfer's progress, on the console and in the next heartbeat.</summary>
    private void Report(long jobId, ClaimKeeper claim, TransferProgress progress)
    {
        var shown = new EncodeProgress(TimeSpan.Zero, progress.Percent, Fps: null, Speed: null, progress.Eta);
        claim.Latest = shown;
        console.Progress(jobId, shown);
    }

    /// <summary>The uploaded file's extension, when it is a plain one (ffmpeg guesses some formats by it); otherwise none.</summary>
    private static string SafeExtension(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        return extension.Length is > 1 and <= 10 && extension[1..].All(char.IsAsciiLetterOrDigit) ? extension : "";
    }

    /// <summary>
    /// Whether the input can be encoded: not a playlist (which would make ffmpeg read other files), readable by
    /// ffprobe, with a video stream. The probe is answered for the encode; a problem is a result ready to report.
    /// </summary>
    private async Task<(ProbeResult? Input, Result? Problem)> CheckInputAsync(Job job, string path, ClaimKeeper claim)
    {
        if (await Playlists.SniffFileAsync(path).WaitAsync(settings.StallTimeout, claim.Stop) is { } playlist)
            return (null, Fail(RefusedPlaylist(job, playlist)));
        var input = await ffmpeg.ProbeAsync(path, claim.Stop);
        if (input.TimedOut) return (null, Retry(ProbeTimedOut(), input.LogTail));
        if (!input.Readable)
            return (null, Fail(File.Exists(path)
                ? $"Cannot read the input '{job.FileName}': {Ffmpeg.LastLine(input.LogTail)}"
                : $"The input file '{job.FileName}' does not exist in the input folder.", input.LogTail));
        if (Playlists.Format(input.FormatName) is { } format)
            return (null, Fail(RefusedPlaylist(job, $"ffmpeg reads it as a playlist ('{format}')"), input.LogTail));
        if (input.VideoCodec is null)
            return (null, Fail($"The input '{job.FileName}' has no video stream.", input.LogTail));
        claim.Hdr = input.Hdr;
        claim.InputSeconds = input.DurationSeconds;
        return (input, null);
    }

    /// <summary>
    /// Encodes <paramref name="inputPath"/> into <paramref name="output"/> as the job's settings say, with progress in
    /// the heartbeats, then judges it: the command line that ran; how the run ended when the result does not count
    /// (a failure, which carries the command line too, so the job shows what ran whichever way it ended; stopped; or
    /// <see cref="KeptOriginal"/> when skip_if_larger discards the encode — the caller's clean-up removes the file,
    /// which is never placed nor uploaded), null when it counts; and the scores the <see cref="QualityGate"/> measured.
    /// </summary>
    private async Task<(string CommandLine, Result? Ended, QualityScores Scores)> EncodeCheckedAsync(Job job, string inputPath, ProbeResult input,
        string output, ClaimKeeper claim)
    {
        var encode = job.Settings;
        if ((EncodeArguments.SubtitleProblem(encode, input) ?? EncodeArguments.HdrProblem(encode, input)) is { } problem)
            return ("", Fail($"The job cannot run as asked: {problem}."), new QualityScores(null, null));
        var arguments = EncodeArguments.Build(inputPath, output, encode, input);
        var commandLine = ffmpeg.CommandLine(arguments);
        var (ended, scores) = await EncodeAndCheckAsync(job, arguments, encode, inputPath, input, output, claim);
        return (commandLine, ended switch
        {
            Failed failed => new Failed(failed.Report with { CommandLine = commandLine }),
            KeptOriginal kept => new KeptOriginal(kept.Report with { CommandLine = commandLine }),
            _ => ended,
        }, scores);
    }

    private async Task<(Result? Ended, QualityScores Scores)> EncodeAndCheckAsync(Job job, IReadOnlyList<string> arguments, EncodeSettings encode,
        string inputPath, ProbeResult input, string output, ClaimKeeper claim)
    {
        var none = new QualityScores(null, null);
        var progressed = false;
        EncodeOutcome outcome;
        using (var run = JobTracing.Step("ffmpeg"))
        {
            run?.SetTag(JobTracing.CommandLineAttribute, ffmpeg.CommandLine(arguments));
            outcome = await ffmpeg.EncodeAsync(arguments, input.DurationSeconds, progress =>
            {
                progressed = true;
                claim.Latest = progress;
                console.Progress(job.Id, progress);
            }, claim.Stop);
            run?.SetTag("videoencode.ffmpeg.exit_code", outcome.ExitCode);
        }
        if (outcome.Stalled)
            return (Retry($"ffmpeg made no progress for {settings.StallTimeout.TotalSeconds:0.#} s; stopped", outcome.LogTail), none);
        if (outcome.ExitCode is null) return (new Stopped(), none);
        // A hardware encoder that would not open (a driver reset, NVENC's session limit, a depth its GPU
        // lacks) says nothing about the job: another worker, or this one later, may run it.
        if (!outcome.Succeeded && !progressed && EncoderCatalog.Find(encode.Encoder)?.Hardware is not null)
            return (Retry($"ffmpeg could not start {encode.Encoder} (exit code {outcome.ExitCode}): {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail), none);
        if (!outcome.Succeeded)
            return (Fail($"ffmpeg exited with code {outcome.ExitCode}: {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail), none);

        var (inputBytes, outputBytes) = (new FileInfo(inputPath).Length, new FileInfo(output).Length);
        if (encode.SkipIfLarger && outputBytes >= inputBytes)
            return (new KeptOriginal(new FinishReport("", InputBytes: inputBytes, OutputBytes: outputBytes, Result: JobResults.KeptOriginal)), none);

        claim.Phase = JobPhase.Checking;
        claim.Latest = null;
        GateVerdict verdict;
        using (var gate = JobTracing.Step("gate"))
        {
            verdict = await new QualityGate(ffmpeg, settings.StallTimeout).CheckAsync(encode, inputPath, input, output, progress =>
            {
                claim.Latest = progress;
                console.Progress(job.Id, progress);
            }, claim.Stop);
            gate?.SetTag("videoencode.gate.verdict", verdict.GetType().Name);
        }
        return verdict switch
        {
            GateVerdict.Passed passed => (null, passed.Scores),
            GateVerdict.Rejected rejected => (Fail($"The encoded file failed its check: {rejected.Why}", outcome.LogTail + rejected.LogTail), none),
            GateVerdict.Unfinished unfinished => (Retry($"The encoded file could not be checked: {unfinished.Why}", outcome.LogTail + unfinished.LogTail), none),
            _ => (new Stopped(), none),
        };
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
