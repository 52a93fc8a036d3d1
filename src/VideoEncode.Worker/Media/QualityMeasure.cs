using System.Globalization;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>A stretch of the input the quality gate compares: from <see cref="Start"/> for <see cref="Length"/> seconds, or the whole file (null).</summary>
public sealed record Segment(double Start, double? Length);

/// <summary>SSIM and PSNR of an encode against its input, as ffmpeg's ssim and psnr filters measure them; null: not measured.</summary>
public sealed record QualityScores(double? Ssim, double? Psnr);

/// <summary>
/// How the quality gate measures SSIM and PSNR (libvmaf is not in Debian's ffmpeg): ffmpeg decodes
/// the output and the input side by side, both restarted at time zero, the input scaled to the
/// output's frame size (a max_height encode is smaller) and both in the output's pixel format, and
/// its ssim and psnr filters print their averages on stderr. A short input is compared whole; one
/// longer than <see cref="SampleAboveSeconds"/> on <see cref="SampleSegments"/> segments of
/// <see cref="SegmentSeconds"/> s, the middle of each fifth of it: five cuts through the whole file
/// cost about 25 s of decoding whatever its length.
/// </summary>
public static class QualityMeasure
{
    public const double SampleAboveSeconds = 60;
    public const int SampleSegments = 5;
    public const double SegmentSeconds = 5;

    /// <summary>What is compared for an input of <paramref name="inputSeconds"/> (unknown: the whole file).</summary>
    public static IReadOnlyList<Segment> Segments(double? inputSeconds)
    {
        if (inputSeconds is not (> SampleAboveSeconds and var total)) return [new Segment(0, null)];
        var fifth = total / SampleSegments;
        return [.. Enumerable.Range(0, SampleSegments).Select(i => new Segment(i * fifth + (fifth - SegmentSeconds) / 2, SegmentSeconds))];
    }

    /// <summary>The ffmpeg run measuring one segment: the output as input 0, the original as input 1, nothing written.</summary>
    public static IReadOnlyList<string> Arguments(string outputPath, ProbeResult output, string inputPath, Segment segment, bool ssim, bool psnr)
    {
        var format = output.PixelFormat ?? "yuv420p";
        var size = output is { Width: { } width, Height: { } height } ? $"scale={width}:{height}:flags=bicubic," : "";
        var metrics = new List<string>();
        if (ssim) metrics.Add("ssim");
        if (psnr) metrics.Add("psnr");
        // Each metric needs its own copy of both pictures: split them when there are two.
        var split = metrics.Count > 1 ? $",split={metrics.Count}" : "";
        var graph = string.Join(';', [
            $"[0:v:0]setpts=PTS-STARTPTS,format={format}{split}{string.Concat(metrics.Select((_, i) => $"[main{i}]"))}",
            $"[1:v:0]setpts=PTS-STARTPTS,{size}format={format}{split}{string.Concat(metrics.Select((_, i) => $"[ref{i}]"))}",
            .. metrics.Select((metric, i) => $"[main{i}][ref{i}]{metric}"),
        ]);
        return
        [
            "-hide_banner", "-nostdin", "-v", "info",
            .. Cut(segment), .. Ffmpeg.InputArguments(outputPath),
            .. Cut(segment), .. Ffmpeg.InputArguments(inputPath),
            "-filter_complex", graph,
            "-progress", "pipe:1", "-nostats",
            "-f", "null", "-",
        ];
    }

    private static string[] Cut(Segment segment) => segment.Length is { } length
        ? ["-ss", Seconds(segment.Start), "-t", Seconds(length)]
        : [];

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// The averages in one run's stderr: the ssim filter's "All:" value and the psnr filter's "average:"
    /// (infinite for identical pictures, which ffmpeg prints as "inf").
    /// </summary>
    public static QualityScores Read(IEnumerable<string> stderr)
    {
        double? ssim = null, psnr = null;
        foreach (var line in stderr)
        {
            if (line.Contains("] SSIM ", StringComparison.Ordinal) && ValueAfter(line, "All:") is { } all) ssim = all;
            else if (line.Contains("] PSNR ", StringComparison.Ordinal) && ValueAfter(line, "average:") is { } average) psnr = average;
        }
        return new QualityScores(ssim, psnr);
    }

    private static double? ValueAfter(string line, string label)
    {
        var at = line.IndexOf(label, StringComparison.Ordinal);
        if (at < 0) return null;
        var value = line[(at + label.Length)..].TrimStart().Split(' ', 2)[0];
        if (value == "inf") return double.PositiveInfinity;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null;
    }

    /// <summary>
    /// The scores of several equal segments as one: SSIM's mean (ffmpeg's own average is a mean over
    /// frames), and the PSNR of the mean squared error (ffmpeg's own average is that too), so one
    /// identical segment does not make the whole infinite. Null when a segment lacks the score.
    /// </summary>
    public static QualityScores Combine(IReadOnlyList<QualityScores> segments)
    {
        double? ssim = segments.All(s => s.Ssim is not null) ? segments.Average(s => s.Ssim!.Value) : null;
        double? psnr = null;
        if (segments.All(s => s.Psnr is not null))
        {
            var meanError = segments.Average(s => Math.Pow(10, -s.Psnr!.Value / 10));
            psnr = meanError == 0 ? double.PositiveInfinity : -10 * Math.Log10(meanError);
        }
        return new QualityScores(ssim, psnr);
    }

    /// <summary>
    /// A PSNR as the finish reports it: a finite number of dB, identical pictures (infinite) as
    /// <see cref="FinishReport.MaxPsnr"/>.
    /// </summary>
    public static double? Reported(double? psnr) => psnr is { } value ? Math.Min(value, FinishReport.MaxPsnr) : null;
}
