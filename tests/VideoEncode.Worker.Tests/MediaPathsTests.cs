using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

public sealed class MediaPathsTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-paths-").FullName;
    private readonly MediaPaths paths;

    public MediaPathsTests()
    {
        Directory.CreateDirectory(Path.Combine(root, "in"));
        Directory.CreateDirectory(Path.Combine(root, "out"));
        paths = new MediaPaths(Path.Combine(root, "in"), Path.Combine(root, "out"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void ARelativeNameMapsUnderBothRootsWithAnMp4Result()
    {
        var (resolved, problem) = paths.Resolve(new Job { Id = 7, FileName = "shows/ep 1.mkv" });
        Assert.Null(problem);
        Assert.Equal(Path.Combine(root, "in", "shows", "ep 1.mkv"), resolved!.Input);
        Assert.Equal(Path.Combine(root, "out", "shows", "ep 1.mp4"), resolved.Output);
    }

    [Fact]
    public void TheJobsOutputNameIsWhereTheResultGoes()
    {
        var (resolved, problem) = paths.Resolve(new Job { Id = 7, FileName = "shows/ep 1.mkv", OutputName = "done/episode one.mp4" });
        Assert.Null(problem);
        Assert.Equal(Path.Combine(root, "out", "done", "episode one.mp4"), resolved!.Output);
        Assert.Equal("done/episode one.mp4", resolved.OutputName);
        Assert.False(resolved.OutputInsideInput);
    }

    [Fact]
    public void WithoutAnOutputNameTwoInputsShareTheDefaultOne()
    {
        Assert.Equal("a.mp4", paths.Resolve(new Job { Id = 1, FileName = "a.mkv" }).Paths!.OutputName);
        Assert.Equal("a.mp4", paths.Resolve(new Job { Id = 2, FileName = "a.avi" }).Paths!.OutputName);
    }

    [Theory]
    [InlineData("../elsewhere.mp4", "'..'")]
    [InlineData("/etc/cron.d/x.mp4", "relative path")]
    [InlineData("result.mkv", "must end in .mp4")]
    public void AnOutputNameThatLeavesTheRootOrIsNotMp4IsRefused(string outputName, string reason)
    {
        var (resolved, problem) = paths.Resolve(new Job { Id = 1, FileName = "a.mkv", OutputName = outputName });
        Assert.Null(resolved);
        Assert.StartsWith("output_name ", problem);
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void AnOutputInTheInputFolderIsKnownAsSuch()
    {
        Directory.CreateDirectory(Path.Combine(root, "in", "out"));
        var same = new MediaPaths(Path.Combine(root, "in"), Path.Combine(root, "in"));
        var nested = new MediaPaths(Path.Combine(root, "in"), Path.Combine(root, "in", "out"));
        Directory.CreateSymbolicLink(Path.Combine(root, "in-alias"), Path.Combine(root, "in"));
        var aliased = new MediaPaths(Path.Combine(root, "in"), Path.Combine(root, "in-alias"));
        Assert.All(new[] { same, nested, aliased }, overlapping =>
            Assert.True(overlapping.Resolve(new Job { Id = 1, FileName = "a.mkv" }).Paths!.OutputInsideInput));
        Assert.False(paths.Resolve(new Job { Id = 1, FileName = "a.mkv" }).Paths!.OutputInsideInput);
    }

    [Theory]
    [InlineData("../secret.mkv")]
    [InlineData("a/../../secret.mkv")]
    [InlineData("a\\..\\..\\secret.mkv")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("")]
    public void NamesThatLeaveTheRootAreRefused(string fileName)
    {
        var (resolved, problem) = paths.Resolve(new Job { Id = 1, FileName = fileName });
        Assert.Null(resolved);
        Assert.NotNull(problem);
    }

    [Fact]
    public void ASymbolicLinkInsideTheInputRootCannotLeadOutsideIt()
    {
        var outside = Directory.CreateDirectory(Path.Combine(root, "elsewhere")).FullName;
        File.WriteAllText(Path.Combine(outside, "private.mkv"), "x");
        Directory.CreateSymbolicLink(Path.Combine(root, "in", "link"), outside);

        var (resolved, problem) = paths.Resolve(new Job { Id = 1, FileName = "link/private.mkv" });

        Assert.Null(resolved);
        Assert.Contains("outside the input folder", problem);
    }

    [Fact]
    public void ASymbolicLinkThatStaysInsideIsFine()
    {
        Directory.CreateDirectory(Path.Combine(root, "in", "real"));
        Directory.CreateSymbolicLink(Path.Combine(root, "in", "alias"), Path.Combine(root, "in", "real"));
        var (resolved, problem) = paths.Resolve(new Job { Id = 1, FileName = "alias/a.mkv" });
        Assert.Null(problem);
        Assert.NotNull(resolved);
    }

    [Fact]
    public void TheSameFolderForInputAndOutputCannotOverwriteAnMp4Input()
    {
        var same = new MediaPaths(Path.Combine(root, "in"), Path.Combine(root, "in"));
        Assert.Contains("overwrite", same.Resolve(new Job { Id = 1, FileName = "a.mp4" }).Problem);
        Assert.Null(same.Resolve(new Job { Id = 1, FileName = "a.mkv" }).Problem);
    }

    [Fact]
    public void RealPathResolvesLinksAlongThePathAndToleratesMissingParts()
    {
        Directory.CreateDirectory(Path.Combine(root, "target"));
        Directory.CreateSymbolicLink(Path.Combine(root, "hop"), "target");
        Assert.Equal(Path.Combine(root, "target", "not", "yet.mp4"), MediaPaths.RealPath(Path.Combine(root, "hop", "not", "yet.mp4")));
    }
}
