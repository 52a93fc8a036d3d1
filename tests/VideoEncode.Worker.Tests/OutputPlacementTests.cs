using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OutputPlacementTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-placement-").FullName;
    private readonly string input, output;

    public OutputPlacementTests()
    {
        input = Directory.CreateDirectory(Path.Combine(root, "in")).FullName;
        output = Directory.CreateDirectory(Path.Combine(root, "out")).FullName;
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void AFreeOutputReceivesTheResult()
    {
        var paths = Resolve(new MediaPaths(input, output), "a.mkv");
        var temporary = Temporary("new result");

        Assert.Null(OutputPlacement.Refusal(paths, overwrite: false));
        Assert.Null(OutputPlacement.Place(temporary, paths, overwrite: false));

        Assert.Equal("new result", File.ReadAllText(paths.Output));
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void AnExistingOutputIsNotReplacedWithoutOverwriteEvenIfItAppearsAfterTheFirstLook()
    {
        var paths = Resolve(new MediaPaths(input, output), "a.avi");
        Assert.Null(OutputPlacement.Refusal(paths, overwrite: false));     // free when the encode starts
        File.WriteAllText(paths.Output, "a.mkv's result");                  // then another job's result lands there
        var temporary = Temporary("a.avi's result");

        var refused = OutputPlacement.Place(temporary, paths, overwrite: false);

        Assert.StartsWith("output exists: a.mp4", refused);
        Assert.StartsWith("output exists: a.mp4", OutputPlacement.Refusal(paths, overwrite: false));
        Assert.Equal("a.mkv's result", File.ReadAllText(paths.Output));
        Assert.True(File.Exists(temporary));   // left for its run to delete
    }

    [Fact]
    public void ALinkAtTheOutputCountsAsAnExistingOutputEvenIfItLeadsNowhere()
    {
        var paths = Resolve(new MediaPaths(input, output), "a.mkv");
        File.CreateSymbolicLink(paths.Output, Path.Combine(root, "nowhere.mp4"));

        Assert.StartsWith("output exists: a.mp4", OutputPlacement.Place(Temporary("result"), paths, overwrite: false));
        Assert.False(File.Exists(Path.Combine(root, "nowhere.mp4")));
    }

    [Fact]
    public void OverwriteReplacesAnExistingOutput()
    {
        var paths = Resolve(new MediaPaths(input, output), "a.mkv");
        File.WriteAllText(paths.Output, "last week's result");

        Assert.Null(OutputPlacement.Refusal(paths, overwrite: true));
        Assert.Null(OutputPlacement.Place(Temporary("this week's result"), paths, overwrite: true));

        Assert.Equal("this week's result", File.ReadAllText(paths.Output));
    }

    [Fact]
    public void OverwriteDoesNotReplaceAFolder()
    {
        var paths = Resolve(new MediaPaths(input, output), "a.mkv");
        Directory.CreateDirectory(paths.Output);
        Assert.Contains("is a folder", OutputPlacement.Place(Temporary("result"), paths, overwrite: true));
        Assert.True(Directory.Exists(paths.Output));
    }

    [Theory]
    [InlineData("in")]
    [InlineData("in/results")]
    public void OverwriteNeverReplacesAFileInTheInputFolderWhichMayBeAnotherJobsInput(string outputFolder)
    {
        var overlapping = new MediaPaths(input, Path.Combine(root, outputFolder));
        var paths = Resolve(overlapping, "a.mkv");
        Directory.CreateDirectory(Path.GetDirectoryName(paths.Output)!);
        File.WriteAllText(paths.Output, "another job's input");

        Assert.Contains("another job's input", OutputPlacement.Refusal(paths, overwrite: true));
        Assert.Contains("another job's input", OutputPlacement.Place(Temporary("result"), paths, overwrite: true));

        Assert.Equal("another job's input", File.ReadAllText(paths.Output));
    }

    [Fact]
    public void ANewOutputInTheInputFolderIsStillWritten()
    {
        var paths = Resolve(new MediaPaths(input, input), "a.mkv");
        Assert.Null(OutputPlacement.Place(Temporary("result"), paths, overwrite: true));
        Assert.Equal("result", File.ReadAllText(paths.Output));
    }

    private static JobPaths Resolve(MediaPaths mediaPaths, string fileName) =>
        mediaPaths.Resolve(new Job { Id = 1, FileName = fileName }).Paths!;

    private string Temporary(string content)
    {
        var path = Path.Combine(output, $".result.{Guid.NewGuid():N}.partial");
        File.WriteAllText(path, content);
        return path;
    }
}
