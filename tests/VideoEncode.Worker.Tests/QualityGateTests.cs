using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>The quality gate's rules on their own, and on real files made and damaged here with the real ffmpeg.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QualityGateTests : IDisposable
{
    private static readonly EncodeSettings Legacy = EncodeSettings.Legacy("23", "medium");

    private readonly string folder = Directory.CreateTempSubdirectory("videoencode-gate-").FullName;
    private readonly Ffmpeg ffmpeg = new("ffmpeg", "ffprobe", TimeSpan.FromSeconds(60));

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void TheScoresAreReadFromTheFiltersSummaryLinesAsFfmpegPrintsThem()
    {
        var scores = QualityMeasure.Read([
            "[Parsed_psnr_8 @ 0x55f73f146180] PSNR y:22.615377 u:30.203140 v:30.566462 average:24.027445 min:23.040969 max:25.086459",
            "frame=   45 fps=0.0 q=-0.0 Lsize=N/A time=00:00:03.00 bitrate=N/A speed= 120x",
            "[Parsed_ssim_7 @ 0x55f73f145580] SSIM Y:0.750782 (6.034212) U:0.910462 (10.479932) V:0.964934 (14.551156) All:0.813088 (7.283619)",
        ]);
        Assert.Equal(0.813088, scores.Ssim);
        Assert.Equal(24.027445, scores.Psnr);

        var identical = QualityMeasure.Read(["[Parsed_psnr_0 @ 0x56046a9aa680] PSNR y:inf u:inf v:inf average:inf min:inf max:inf"]);
        Assert.Null(identical.Ssim);
        Assert.Equal(double.PositiveInfinity, identical.Psnr);
        Assert.Equal(FinishReport.MaxPsnr, QualityMeasure.Reported(identical.Psnr));
        Assert.Equal(new QualityScores(null, null), QualityMeasure.Read(["Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:out.mp4':"]));
    }

    [Fact]
    public void AShortInputIsComparedWholeALongOneOnFiveSegmentsOfFiveSecondsOneInTheMiddleOfEachFifth()
    {
        Assert.Equal([new Segment(0, null)], QualityMeasure.Segments(60));
        Assert.Equal([new Segment(0, null)], QualityMeasure.Segments(null));
        Assert.Equal([7.5, 27.5, 47.5, 67.5, 87.5], QualityMeasure.Segments(100).Select(segment => segment.Start));
        Assert.All(QualityMeasure.Segments(100), segment => Assert.Equal(QualityMeasure.SegmentSeconds, segment.Length));
    }

    [Fact]
    public void SegmentsCombineAsTheirMeanSsimAndThePsnrOfTheirMeanError()
    {
        var combined = QualityMeasure.Combine([new QualityScores(0.9, 30), new QualityScores(0.8, 40)]);
        Assert.Equal(0.85, combined.Ssim!.Value, 9);
        Assert.Equal(32.596, combined.Psnr!.Value, 3);     // -10·log10((10^-3 + 10^-4) / 2), not the mean of 30 and 40
        Assert.Equal(33.010, QualityMeasure.Combine([new QualityScores(null, double.PositiveInfinity), new QualityScores(null, 30)]).Psnr!.Value, 3);
        Assert.Equal(double.PositiveInfinity, QualityMeasure.Combine([new QualityScores(null, double.PositiveInfinity)]).Psnr);
    }

    [Fact]
    public void TheStreamsMustBeTheCodecAskedForAndKeepTheInputsAudioAndCopiedSubtitles()
    {
        var input = new ProbeResult(true, 10, "hevc", "") { AudioStreams = 2, SubtitleCodecs = ["subrip"] };
        var good = new ProbeResult(true, 10.2, "h264", "") { AudioStreams = 2 };
        Assert.Null(QualityGate.StreamProblem(Legacy, input, good));
        Assert.Equal("expected a h264 video stream, found hevc", QualityGate.StreamProblem(Legacy, input, good with { VideoCodec = "hevc" }));
        Assert.Null(QualityGate.StreamProblem(Legacy with { VideoCodec = VideoCodecs.Copy, Encoder = null }, input, good with { VideoCodec = "hevc" }));
        Assert.Equal("the input has 2 audio streams, the result 1 audio stream", QualityGate.StreamProblem(Legacy, input, good with { AudioStreams = 1 }));
        Assert.Equal("the job keeps 1 subtitle stream of the input, the result has 0 subtitle streams",
            QualityGate.StreamProblem(Legacy with { Subtitles = SubtitleModes.Copy }, input with { Streams = EncodeArgumentsTests.Probed("hevc", "subrip").Streams },
                good with { Streams = EncodeArgumentsTests.Probed("h264").Streams }));
        Assert.Equal("it lasts 3 s where the input lasts 10 s", QualityGate.StreamProblem(Legacy, input, good with { DurationSeconds = 3 }));
    }

    [Fact]
    public async Task ATruncatedResultFailsTheDecodePassWithTheErrorCountAndTheFirstErrors()
    {
        var (input, output) = await EncodedAsync("30");
        using (var file = new FileStream(output, FileMode.Open)) file.SetLength(file.Length * 2 / 3);

        var verdict = await CheckAsync(Legacy, input, output);

        var rejected = Assert.IsType<GateVerdict.Rejected>(verdict);
        Assert.Matches(@"^decoding it gave \d+ errors? \(ffmpeg exit code 0\), first: ", rejected.Why);
        Assert.Contains("partial file", rejected.LogTail);
    }

    [Fact]
    public async Task AGoodResultPassesWithoutScoresWhenTheJobAsksForNone()
    {
        var (input, output) = await EncodedAsync("30");
        var progress = new List<EncodeProgress>();

        var verdict = await CheckAsync(Legacy, input, output, progress.Add);

        Assert.Equal(new QualityScores(null, null), Assert.IsType<GateVerdict.Passed>(verdict).Scores);
        Assert.Equal(100, progress[^1].Percent);                   // the decode pass reports its progress
    }

    [Fact]
    public async Task AnSsimThresholdAboveWhatTheEncodeReachesFailsWithTheMeasuredValue()
    {
        var (input, output) = await EncodedAsync("51");

        var verdict = await CheckAsync(Legacy with { MinSsim = 0.999, MinPsnr = 10 }, input, output);

        var why = Assert.IsType<GateVerdict.Rejected>(verdict).Why;
        Assert.Matches(@"^SSIM 0\.\d+ is below the job's min_ssim 0\.999; PSNR \d+(\.\d+)?$", why);
    }

    [Fact]
    public async Task AReachableThresholdPassesWithBothScores()
    {
        var (input, output) = await EncodedAsync("18");

        var verdict = await CheckAsync(Legacy with { MinSsim = 0.5, MinPsnr = 20 }, input, output);

        var scores = Assert.IsType<GateVerdict.Passed>(verdict).Scores;
        Assert.InRange(scores.Ssim!.Value, 0.9, 1);
        Assert.InRange(scores.Psnr!.Value, 30, 100);
    }

    [Fact]
    public async Task AResultScaledDownIsComparedWithTheInputScaledToItsSize()
    {
        var (input, output) = await EncodedAsync("18", "-vf", "scale=-2:60");

        var verdict = await CheckAsync(Legacy with { MinSsim = 0.5, MaxHeight = 60 }, input, output);

        Assert.InRange(Assert.IsType<GateVerdict.Passed>(verdict).Scores.Ssim!.Value, 0.7, 1);
    }

    [Fact]
    public async Task ALongInputIsMeasuredOnItsSegments()
    {
        var (input, output) = await EncodedAsync("18", seconds: 62, size: "64x48", rate: 5);
        var calls = Path.Combine(folder, "calls.log");
        var recording = new Ffmpeg(FakeTools.Recording(folder, "ffmpeg", calls), "ffprobe", TimeSpan.FromSeconds(60));

        var verdict = await new QualityGate(recording, TimeSpan.FromSeconds(60)).CheckAsync(Legacy with { MinPsnr = 20 }, input,
            await ffmpeg.ProbeAsync(input, CancellationToken.None), output, _ => { }, CancellationToken.None);

        Assert.InRange(Assert.IsType<GateVerdict.Passed>(verdict).Scores.Psnr!.Value, 25, FinishReport.MaxPsnr);
        var measured = (await File.ReadAllLinesAsync(calls)).Where(line => line.Contains("psnr", StringComparison.Ordinal)).ToList();
        Assert.Equal(QualityMeasure.SampleSegments, measured.Count);
        Assert.All(measured, line => Assert.Contains("-t 5 ", line));
    }

    /// <summary>A clip made here and its encode at <paramref name="crf"/> (libx264, AAC, the index first: like a legacy job's).</summary>
    private async Task<(string Input, string Output)> EncodedAsync(string crf, params string[] extra) =>
        await EncodedAsync(crf, 3, "160x120", 15, extra);

    private async Task<(string Input, string Output)> EncodedAsync(string crf, double seconds, string size, int rate, params string[] extra)
    {
        var input = Path.Combine(folder, $"in-{Guid.NewGuid():N}.mp4");
        var output = Path.Combine(folder, $"out-{Guid.NewGuid():N}.mp4");
        await TestMedia.MakeClipAsync(input, seconds, size, rate);
        await TestMedia.GenerateAsync(
            ["-v", "error", "-y", "-i", input, "-c:v", "libx264", "-preset", "ultrafast", "-crf", crf, .. extra, "-c:a", "aac", "-movflags", "+faststart", output]);
        return (input, output);
    }

    private async Task<GateVerdict> CheckAsync(EncodeSettings settings, string input, string output, Action<EncodeProgress>? onProgress = null) =>
        await new QualityGate(ffmpeg, TimeSpan.FromSeconds(60)).CheckAsync(settings, input, await ffmpeg.ProbeAsync(input, CancellationToken.None), output,
            onProgress ?? (_ => { }), CancellationToken.None);
}
