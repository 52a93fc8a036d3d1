using System.Globalization;
using System.Text.RegularExpressions;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Thumbnails tasks (issue 28): the files' prefix, the sheet's layout, the storyboard and the arguments as pure
/// functions; then a real run on a 5-second 640x360 clip whose sprite, storyboard and poster are read back.
/// </summary>
public sealed partial class ThumbnailsWorkTests(ThumbnailsWorkTests.Clip clip) : IClassFixture<ThumbnailsWorkTests.Clip>
{
    [Theory]
    [InlineData("movies/a.storyboard.vtt", "a.")]
    [InlineData("movies/a/storyboard.vtt", "")]
    [InlineData("storyboard.vtt", "")]
    [InlineData("my film.v2.storyboard.vtt", "my film.v2.")]
    [InlineData("movies/a.mp4", "a.")]
    [InlineData(null, "in.")]
    public void TheFilesArePrefixedByTheOutputNameWithoutStoryboardVtt(string? outputName, string prefix) =>
        Assert.Equal(prefix, ThumbnailsWork.FilePrefix(new Job { FileName = "movies/in.mkv", OutputName = outputName }));

    [Theory]
    // seconds, every, width, input: pictures, columns x rows, tile height
    [InlineData(5.0, 2, 160, 640, 360, 3, 3, 1, 90)]
    [InlineData(4.0, 1, 160, 640, 360, 4, 4, 1, 90)]
    [InlineData(4.0005, 1, 160, 640, 360, 4, 4, 1, 90)]
    [InlineData(4.002, 1, 160, 640, 360, 5, 5, 1, 90)]
    [InlineData(0.2, 10, 160, 640, 360, 1, 1, 1, 90)]
    [InlineData(95, 10, 120, 1920, 800, 10, 10, 1, 50)]
    [InlineData(101, 10, 160, 720, 576, 11, 10, 2, 128)]
    public void TheSheetHoldsOnePicturePerStretchTenToARow(double seconds, int every, int width, int inputWidth, int inputHeight,
        int count, int columns, int rows, int tileHeight)
    {
        var layout = Storyboard.Layout(new ThumbnailsSpec(every, width), seconds, inputWidth, inputHeight);

        Assert.Equal(new SpriteLayout(every, count, columns, rows, width, tileHeight), layout);
    }

    [Fact]
    public void ALongInputGetsFewerPicturesThanAskedRatherThanATooTallSheet()
    {
        var layout = Storyboard.Layout(new ThumbnailsSpec(1, 160), 10 * 3600, 1920, 1080);

        Assert.True(layout.SheetHeight <= Storyboard.MaxSheetSide, $"{layout.SheetHeight}");
        Assert.Equal(20, layout.EverySeconds);
        Assert.Equal(1800, layout.Count);
        Assert.Equal(180, layout.Rows);
    }

    [Fact]
    public void TheStoryboardHasACuePerPictureEndingAtTheInputsEnd()
    {
        var layout = new SpriteLayout(2, 3, 2, 2, 160, 90);

        Assert.Equal("""
            WEBVTT

            00:00:00.000 --> 00:00:02.000
            a.sprite.jpg#xywh=0,0,160,90

            00:00:02.000 --> 00:00:04.000
            a.sprite.jpg#xywh=160,0,160,90

            00:00:04.000 --> 00:00:05.040
            a.sprite.jpg#xywh=0,90,160,90

            """, Storyboard.WebVtt(layout, 5.04, "a.sprite.jpg"));
        Assert.Equal("01:02:03.045", Storyboard.Timestamp(3723.0449));
        Assert.Equal("100:00:00.000", Storyboard.Timestamp(360000));
    }

    [Fact]
    public void TheSpriteDecodesOnceIntoATileAndANullOutputThatCarriesTheProgress()
    {
        var args = Storyboard.SpriteArguments("in.mp4", "/w/a.sprite.jpg", new SpriteLayout(2, 3, 3, 1, 160, 90), toneMap: false);
        var poster = Storyboard.PosterArguments("in.mp4", "/w/a.poster.jpg", 50, 1920, toneMap: true);

        Assert.Equal("[0:v:0]tpad=stop_mode=clone:stop_duration=2,select='lt(selected_n,3)*gte(t,selected_n*2)',scale=160:-2,tile=3x1[sprite]",
            args[args.ToList().IndexOf("-filter_complex") + 1]);
        Assert.Equal("-map 0:v:0 -f null - -map [sprite] -frames:v 1 -update 1 -q:v 4 -f image2 /w/a.sprite.jpg",
            string.Join(' ', args.SkipWhile(arg => arg != "-nostats").Skip(1)));
        Assert.Equal(["-ss", "5"], poster.SkipWhile(arg => arg != "-ss").Take(2));
        Assert.StartsWith("scale=1280:-2,zscale=t=linear", poster[poster.ToList().IndexOf("-vf") + 1]);
        Assert.DoesNotContain("-ss", Storyboard.PosterArguments("in.mp4", "/w/p.jpg", 1.5, 640, toneMap: false));
    }

    [Fact]
    public async Task ASpriteAStoryboardPointingIntoItAndAPosterAreWritten()
    {
        var work = Directory.CreateDirectory(Path.Combine(clip.Folder, "work")).FullName;
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(30));
        var input = await ffmpeg.ProbeAsync(clip.Path, CancellationToken.None);
        var job = new Job { Id = 9, FileName = "movies/a.mp4", OutputName = "movies/a.storyboard.vtt",
            Task = new JobTask { JobId = 6, Index = 2, Kind = TaskKinds.Thumbnails, Thumbnails = new ThumbnailsSpec(2, 160) } };
        var progressed = false;
        var context = new TaskContext(job, job.Task, clip.Path, input, work, ffmpeg, TimeSpan.FromSeconds(30), _ => progressed = true,
            (_, _) => throw new InvalidOperationException("Thumbnails read no parts."));

        var done = PackageWorkTests.Done(await new ThumbnailsWork().RunAsync(context, CancellationToken.None));

        var folder = Path.Combine(work, ThumbnailsWork.FolderName);
        Assert.Equal(folder, done.Result);
        Assert.Equal(["a.poster.jpg", "a.sprite.jpg", "a.storyboard.vtt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Equal(Directory.GetFiles(folder).Sum(file => new FileInfo(file).Length), done.Finish.OutputBytes);
        Assert.Equal(("mjpeg", 90), (done.Finish.Codec, done.Finish.Height));
        Assert.True(progressed);

        var sprite = await ffmpeg.ProbeAsync(Path.Combine(folder, "a.sprite.jpg"), CancellationToken.None);
        var poster = await ffmpeg.ProbeAsync(Path.Combine(folder, "a.poster.jpg"), CancellationToken.None);
        Assert.Equal(("mjpeg", 480, 90), (sprite.VideoCodec, sprite.Width, sprite.Height));
        Assert.Equal(("mjpeg", 640, 360), (poster.VideoCodec, poster.Width, poster.Height));

        // The storyboard read as a player reads it: cues one after another from 0 to the input's end, each a whole tile of the sheet.
        var lines = (await File.ReadAllTextAsync(Path.Combine(folder, "a.storyboard.vtt"))).Split('\n');
        Assert.Equal("WEBVTT", lines[0]);
        var cues = lines.Select((line, index) => (Match: Cue().Match(line), Index: index)).Where(cue => cue.Match.Success)
            .Select(cue => (Start: Seconds(cue.Match.Groups[1].Value), End: Seconds(cue.Match.Groups[2].Value), Text: lines[cue.Index + 1])).ToList();
        Assert.Equal(3, cues.Count);
        Assert.Equal(0, cues[0].Start);
        Assert.All(cues.Zip(cues.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start));
        Assert.All(cues, cue => Assert.True(cue.End > cue.Start));
        Assert.Equal(input.DurationSeconds!.Value, cues[^1].End, 0.001);
        List<(int X, int Y)> tiles = [];
        foreach (var cue in cues)
        {
            var xywh = Regex.Match(cue.Text, @"^a\.sprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)$");
            Assert.True(xywh.Success, cue.Text);
            var (x, y, w, h) = (Number(xywh, 1), Number(xywh, 2), Number(xywh, 3), Number(xywh, 4));
            Assert.Equal((160, 90), (w, h));
            Assert.InRange(x + w, w, sprite.Width!.Value);
            Assert.InRange(y + h, h, sprite.Height!.Value);
            tiles.Add((x, y));
        }
        Assert.Equal(tiles.Count, tiles.Distinct().Count());
        // The last tile is a picture, not the black the tile filter pads an unfilled sheet with.
        var (exit, _, stderr) = await TestMedia.RunAsync("ffmpeg", ["-i", Path.Combine(folder, "a.sprite.jpg"), "-vf",
            $"crop=160:90:{tiles[^1].X}:{tiles[^1].Y},signalstats,metadata=print:key=lavfi.signalstats.YAVG", "-f", "null", "-"]);
        Assert.Equal(0, exit);
        Assert.InRange(double.Parse(Regex.Match(stderr, @"YAVG=([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture), 40, 255);
    }

    private static double Seconds(string timestamp) => TimeSpan.ParseExact(timestamp, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture).TotalSeconds;

    private static int Number(Match match, int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(\d{2}:\d{2}:\d{2}\.\d{3}) --> (\d{2}:\d{2}:\d{2}\.\d{3})$")]
    private static partial Regex Cue();

    public sealed class Clip : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("videoencode-thumbnails-").FullName;
        public string Path => System.IO.Path.Combine(Folder, "in.mp4");

        public Task InitializeAsync() => TestMedia.MakeClipAsync(Path, 5, "640x360", 25);

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }
}
