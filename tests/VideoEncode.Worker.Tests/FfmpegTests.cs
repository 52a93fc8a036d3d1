using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FfmpegTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("videoencode-ffmpeg-").FullName;
    private readonly Ffmpeg ffmpeg = new("ffmpeg", "ffprobe", TimeSpan.FromSeconds(60));

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void InputsAreLocalFilesOnlyForFfmpegAndFfprobe()
    {
        foreach (var args in new[] { Libx264("/media/in.mkv", "/out/x.partial", "23", "fast"), Ffmpeg.ProbeArguments("/media/in.mkv") })
        {
            var list = args.ToList();
            Assert.Equal("file", After(args, "-protocol_whitelist"));
            Assert.True(list.IndexOf("-protocol_whitelist") < list.IndexOf("-i"), "the whitelist must come before the input it guards");
            Assert.Equal("file:/media/in.mkv", After(args, "-i"));
        }
        Assert.Contains("format_name", After(Ffmpeg.ProbeArguments("/media/in.mkv"), "-show_entries"));
    }

    [Theory]
    [InlineData("my holiday video.mkv")]
    [InlineData("über straße – 東京 🎬.mkv")]
    [InlineData("quote \" and 'single' $HOME `ls` ; rm -rf.mkv")]
    [InlineData("-i looks like an option.mkv")]
    public void AnyFileNameIsExactlyOneArgument(string name)
    {
        var input = Path.Combine("/media in", name);
        var args = Libx264(input, "/out/" + name, "23", "fast");
        Assert.Single(args, arg => arg == "file:" + input);
        Assert.Equal("file:" + input, After(args, "-i"));
        Assert.Equal("/out/" + name, args[^1]);
    }

    [Fact]
    public async Task ARealEncodeOfANonAsciiNameWithSpacesProducesH264AndReportsProgress()
    {
        var input = Path.Combine(folder, "in put", "clip über 東京.mkv");
        var output = Path.Combine(folder, "out put", "résultat final.partial");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await TestMedia.MakeClipAsync(input, seconds: 2);
        var probe = await ffmpeg.ProbeAsync(input, CancellationToken.None);
        var updates = new List<EncodeProgress>();

        var outcome = await ffmpeg.EncodeAsync(Libx264(input, output, "30", "ultrafast"), probe.DurationSeconds, updates.Add, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.LogTail);
        var (codec, duration) = await TestMedia.ProbeAsync(output);
        Assert.Equal("h264", codec);
        Assert.Equal(2, duration, 0.5);
        Assert.NotEmpty(updates);
        Assert.Equal(100, updates[^1].Percent);
    }

    [Fact]
    public async Task AFailingEncodeKeepsOnlyTheTailOfStderr()
    {
        var input = Path.Combine(folder, "garbage.mp4");
        await File.WriteAllBytesAsync(input, new byte[5000]);
        var outcome = await ffmpeg.EncodeAsync(Libx264(input, Path.Combine(folder, "x.partial"), "23", "fast"), null, _ => { }, CancellationToken.None);
        Assert.False(outcome.Succeeded);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("Invalid data", outcome.LogTail);
        Assert.True(outcome.LogTail.Length <= Ffmpeg.LogTailChars);
    }

    [Fact]
    public async Task CancellingAnEncodeKillsFfmpegAndReportsNoExitCode()
    {
        var input = Path.Combine(folder, "long.mkv");
        await TestMedia.MakeClipAsync(input, seconds: 30, size: "640x360", audio: false);
        using var cancel = new CancellationTokenSource();
        var encode = ffmpeg.EncodeAsync(Libx264(input, Path.Combine(folder, "long.partial"), "18", "veryslow"), 30,
            _ => cancel.Cancel(), cancel.Token);
        var outcome = await encode;
        Assert.Null(outcome.ExitCode);
    }

    [Fact]
    public async Task AnEncodeThatMakesNoProgressIsStoppedAfterTheStallTimeout()
    {
        var pidFile = Path.Combine(folder, "ffmpeg.pid");
        // Long enough for the fake to write its pid even on a busy machine.
        var hanging = new Ffmpeg(FakeTools.HangingFfmpeg(folder, pidFile), "ffprobe", TimeSpan.FromSeconds(4));

        var outcome = await hanging.EncodeAsync(Libx264("/in.mkv", Path.Combine(folder, "x.partial"), "23", "fast"), 10, _ => { }, CancellationToken.None);

        Assert.True(outcome.Stalled);
        Assert.Null(outcome.ExitCode);
        Assert.False(FakeTools.Running(FakeTools.ReadPid(pidFile)!.Value));
    }

    [Fact]
    public async Task AnEncodeThatKeepsMakingProgressIsNotMistakenForAStall()
    {
        var input = Path.Combine(folder, "paced.mkv");
        await TestMedia.MakeClipAsync(input, seconds: 10, audio: false);
        var paced = new Ffmpeg(FakeTools.RealTimeFfmpeg(folder), "ffprobe", TimeSpan.FromSeconds(4));

        var outcome = await paced.EncodeAsync(Libx264(input, Path.Combine(folder, "paced.partial"), "30", "ultrafast"), 10, _ => { }, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.LogTail);   // ten seconds of encoding outlast the four-second stall timeout
        Assert.False(outcome.Stalled);
    }

    [Fact]
    public async Task AProbeThatDoesNotAnswerIsStoppedAfterTheStallTimeout()
    {
        var pidFile = Path.Combine(folder, "ffprobe.pid");
        var hanging = new Ffmpeg("ffmpeg", FakeTools.HangingFfprobe(folder, pidFile), TimeSpan.FromSeconds(4));

        var probe = await hanging.ProbeAsync(Path.Combine(folder, "any.mkv"), CancellationToken.None);

        Assert.True(probe.TimedOut);
        Assert.False(probe.Readable);
        Assert.False(FakeTools.Running(FakeTools.ReadPid(pidFile)!.Value));
    }

    [Fact]
    public async Task ProbeReportsAnUnreadableFile()
    {
        var probe = await ffmpeg.ProbeAsync(Path.Combine(folder, "nothing here.mp4"), CancellationToken.None);
        Assert.False(probe.Readable);
        Assert.Contains("No such file", probe.LogTail);
    }

    [Fact]
    public async Task AMissingFfmpegIsReportedNotThrown()
    {
        var problem = await new Ffmpeg("/nonexistent/ffmpeg", "ffprobe", TimeSpan.FromSeconds(60)).CheckInstalledAsync(CancellationToken.None);
        Assert.Contains("/nonexistent/ffmpeg", problem);
        Assert.Null(await ffmpeg.CheckInstalledAsync(CancellationToken.None));
    }

    /// <summary>Today's encode, the one these tests of running ffmpeg use (every setting's arguments: <see cref="EncodeArgumentsTests"/>).</summary>
    private static IReadOnlyList<string> Libx264(string input, string output, string crf, string preset) =>
        EncodeArguments.Build(input, output, EncodeSettings.Legacy(crf, preset), EncodeArgumentsTests.Probed(null));

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];
}
