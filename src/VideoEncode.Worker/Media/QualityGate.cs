using System.Globalization;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>What the quality gate made of an encode.</summary>
public abstract record GateVerdict
{
    /// <summary>The result counts; the scores the job asked for (SSIM, PSNR) are measured.</summary>
    public sealed record Passed(QualityScores Scores) : GateVerdict;

    /// <summary>The result is bad: the job fails, not retryable (the same encode would be as bad).</summary>
    public sealed record Rejected(string Why, string? LogTail) : GateVerdict;

    /// <summary>A check could not be finished (ffprobe or ffmpeg hung): this attempt fails, and may be tried again.</summary>
    public sealed record Unfinished(string Why, string? LogTail) : GateVerdict;

    /// <summary>The claim was stopped (cancel, lost claim, shutdown) while checking.</summary>
    public sealed record Stopped : GateVerdict;
}

/// <summary>
/// Checks an encode before it counts (the lesson of tools whose users saw a failed file, a
/// 3-minute result of a 43-minute film, counted as success): ffprobe reads it; it holds a video
/// stream of the codec the job asked for (a stream copy: the input's), as many audio, subtitle and
/// attachment streams as the job keeps of the input's (today's encode: at least as many audio streams),
/// the input's chapters (MKV, MP4), the input's HDR transfer when the job keeps HDR and none when it
/// tone-maps; it lasts as
/// long as the input within <see cref="DurationToleranceSeconds"/>; it decodes to the end without
/// a single error (video and audio, in a full pass of ffmpeg, which reports progress and is
/// stopped like an encode when it stalls); and when the job sets min_ssim or min_psnr, its score
/// against the input (<see cref="QualityMeasure"/>) reaches them. The input is only ever read.
/// </summary>
public sealed class QualityGate(Ffmpeg ffmpeg, TimeSpan stallTimeout)
{
    /// <summary>How far the result's duration may stray from the input's.</summary>
    public const double DurationToleranceSeconds = 0.5;

    /// <summary>How many of the decode pass's error lines go into the job's error.</summary>
    public const int ShownErrorLines = 3;

    public async Task<GateVerdict> CheckAsync(EncodeSettings settings, string inputPath, ProbeResult input, string outputPath,
        Action<EncodeProgress> onProgress, CancellationToken stop)
    {
        var output = await ffmpeg.ProbeAsync(outputPath, stop);
        if (output.TimedOut) return new GateVerdict.Unfinished($"ffprobe did not answer about the result within {Timeout}; stopped", output.LogTail);
        if (StreamProblem(settings, input, output) is { } wrong) return new GateVerdict.Rejected(wrong, output.LogTail);

        var decoded = await DecodeAsync(outputPath, output, onProgress, stop);
        if (decoded is not null) return decoded;

        if (settings.MinSsim is null && settings.MinPsnr is null) return new GateVerdict.Passed(new QualityScores(null, null));
        return await MeasureAsync(settings, inputPath, input, outputPath, output, onProgress, stop);
    }

    /// <summary>What ffprobe's view of the result shows wrong against the input and the settings; null when nothing.</summary>
    public static string? StreamProblem(EncodeSettings settings, ProbeResult input, ProbeResult output)
    {
        if (!output.Readable) return $"ffprobe cannot read it ({Ffmpeg.LastLine(output.LogTail)})";
        var codec = EncodeArguments.OutputVideoCodec(settings, input.VideoCodec);
        if (output.VideoCodec != codec) return $"expected a {codec} video stream, found {output.VideoCodec ?? "none"}";
        if (settings.IsLegacy)
        {
            // Today's encode, judged as it always was: every audio stream kept.
            if (output.AudioStreams < input.AudioStreams)
                return $"the input has {Streams(input.AudioStreams, "audio stream")}, the result {Streams(output.AudioStreams, "audio stream")}";
        }
        else
        {
            // As many tracks of each kind as the job keeps (EncodeArguments.Kept), no fewer and no more.
            var kept = EncodeArguments.Kept(settings, input);
            foreach (var (kind, name) in new[] { ("audio", "audio stream"), ("subtitle", "subtitle stream"), ("attachment", "attachment") })
            {
                var (asked, found) = (kept.Count(stream => stream.Kind == kind), output.Streams.Count(stream => stream.Kind == kind));
                if (asked != found) return $"the job keeps {Streams(asked, name)} of the input, the result has {Streams(found, name)}";
            }
            if (settings.Container is Containers.Mkv or Containers.Mp4 && output.Chapters != input.Chapters)
                return $"the input has {Streams(input.Chapters, "chapter")}, the result {Streams(output.Chapters, "chapter")}";
            if (EncodeArguments.KeepsHdr(settings, input) && output.ColorTransfer != input.ColorTransfer)
                return $"the input is HDR ({input.Hdr}, transfer {input.ColorTransfer}), the result's transfer is {output.ColorTransfer ?? "untagged"}: its HDR was lost";
            if (settings.Tonemap is not null && input.Hdr != HdrKinds.None && output.Hdr != HdrKinds.None)
                return $"the job tone-maps the HDR input to SDR, and the result is still {output.Hdr}";
        }
        if (input.DurationSeconds is { } expected)
        {
            if (output.DurationSeconds is not { } actual) return "it has no duration";
            if (Math.Abs(actual - expected) > DurationToleranceSeconds) return $"it lasts {actual:0.##} s where the input lasts {expected:0.##} s";
        }
        return null;
    }

    /// <summary>
    /// Every video and audio stream decoded to the end (subtitles have no decoder for ffmpeg's null
    /// output; their presence is checked above). At -v error each stderr line is an error; ffmpeg
    /// ends a pass over a damaged file with exit code 0 all the same, and the position it reached
    /// shows a file cut short whose header still promises the full duration.
    /// </summary>
    public static IReadOnlyList<string> DecodeArguments(string outputPath) =>
    [
        "-hide_banner", "-nostdin", "-v", "error",
        .. Ffmpeg.InputArguments(outputPath),
        "-map", "0:v", "-map", "0:a?",
        "-progress", "pipe:1", "-nostats",
        "-f", "null", "-",
    ];

    private async Task<GateVerdict?> DecodeAsync(string outputPath, ProbeResult output, Action<EncodeProgress> onProgress, CancellationToken stop)
    {
        var errors = new ErrorLines();
        var reached = TimeSpan.Zero;
        var outcome = await ffmpeg.EncodeAsync(DecodeArguments(outputPath), output.DurationSeconds, progress =>
        {
            reached = progress.Position;
            onProgress(progress);
        }, stop, errors.Add);
        if (outcome.Stalled) return new GateVerdict.Unfinished($"decoding the result made no progress for {Timeout}; stopped", outcome.LogTail);
        if (outcome.ExitCode is null) return new GateVerdict.Stopped();
        if (outcome.ExitCode != 0 || errors.Count > 0)
            return new GateVerdict.Rejected(
                $"decoding it gave {Streams(errors.Count, "error")} (ffmpeg exit code {outcome.ExitCode}), first: {string.Join(" | ", errors.First)}",
                outcome.LogTail);
        if (output.DurationSeconds is { } promised && reached.TotalSeconds < promised - DurationToleranceSeconds)
            return new GateVerdict.Rejected($"only {reached.TotalSeconds:0.##} s of its {promised:0.##} s decode", outcome.LogTail);
        return null;
    }

    private async Task<GateVerdict> MeasureAsync(EncodeSettings settings, string inputPath, ProbeResult input, string outputPath, ProbeResult output,
        Action<EncodeProgress> onProgress, CancellationToken stop)
    {
        var segments = QualityMeasure.Segments(input.DurationSeconds);
        var measured = new List<QualityScores>();
        foreach (var segment in segments)
        {
            var lines = new List<string>();
            var arguments = QualityMeasure.Arguments(outputPath, output, inputPath, segment, ssim: settings.MinSsim is not null, psnr: settings.MinPsnr is not null);
            var done = measured.Count;
            var outcome = await ffmpeg.EncodeAsync(arguments, segment.Length ?? input.DurationSeconds,
                progress => onProgress(progress with { Percent = (done * 100 + (progress.Percent ?? 0)) / segments.Count, Eta = null }), stop, lines.Add);
            if (outcome.Stalled) return new GateVerdict.Unfinished($"measuring the result against the input made no progress for {Timeout}; stopped", outcome.LogTail);
            if (outcome.ExitCode is null) return new GateVerdict.Stopped();
            var scores = QualityMeasure.Read(lines);
            if (outcome.ExitCode != 0 || (settings.MinSsim is not null && scores.Ssim is null) || (settings.MinPsnr is not null && scores.Psnr is null))
                return new GateVerdict.Rejected($"ffmpeg could not compare it with the input (exit code {outcome.ExitCode}): {Ffmpeg.LastLine(outcome.LogTail)}", outcome.LogTail);
            measured.Add(scores);
        }
        var combined = QualityMeasure.Combine(measured);
        var sample = segments.Count > 1 ? $" (on {segments.Count} segments of {QualityMeasure.SegmentSeconds:0} s)" : "";
        if (settings.MinSsim is { } minSsim && combined.Ssim < minSsim)
            return new GateVerdict.Rejected($"SSIM {Score(combined.Ssim!.Value)} is below the job's min_ssim {Score(minSsim)}{sample}{Also(combined.Psnr, "PSNR")}", null);
        if (settings.MinPsnr is { } minPsnr && combined.Psnr < minPsnr)
            return new GateVerdict.Rejected($"PSNR {Score(combined.Psnr!.Value)} dB is below the job's min_psnr {Score(minPsnr)} dB{sample}{Also(combined.Ssim, "SSIM")}", null);
        return new GateVerdict.Passed(combined);
    }

    private string Timeout => $"{stallTimeout.TotalSeconds:0.#} s";

    private static string Also(double? score, string name) => score is { } value ? $"; {name} {Score(value)}" : "";

    private static string Score(double value) => double.IsPositiveInfinity(value) ? "inf" : value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Streams(int count, string what) => count == 1 ? $"1 {what}" : $"{count} {what}s";

    /// <summary>Counts a run's stderr lines and keeps the first few, whatever the tail keeps (the run ends before they are read).</summary>
    private sealed class ErrorLines
    {
        private readonly List<string> first = [];

        public int Count { get; private set; }

        public IReadOnlyList<string> First => first;

        public void Add(string line)
        {
            // ffmpeg folds repeats of the line before into "Last message repeated N times": no new error.
            if (string.IsNullOrWhiteSpace(line) || line.Contains("Last message repeated", StringComparison.Ordinal)) return;
            Count++;
            if (first.Count < ShownErrorLines) first.Add(line.Trim());
        }
    }
}
