using VideoEncode.Worker.Watching;

namespace VideoEncode.Worker.Tests;

/// <summary>Which root a watched folder's job file names are relative to.</summary>
public sealed class WatchFoldersTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-watch-folders-").FullName;
    private readonly string inbox;

    public WatchFoldersTests() => inbox = Directory.CreateDirectory(Path.Combine(root, "inbox")).FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void WithoutInputTheWatchedFolderIsTheRoot() =>
        Assert.Equal(inbox, WatchCommand.Folders(inbox, null, null).Options!.InputRoot);

    [Fact]
    public void TheWorkersInputVariableIsTheRootWhenItHoldsTheFolder()
    {
        Assert.Equal(root, WatchCommand.Folders(inbox, null, root + "/").Options!.InputRoot);
        Assert.Equal(inbox, WatchCommand.Folders(inbox, null, "/somewhere/else").Options!.InputRoot);
    }

    [Fact]
    public void AnInputRootThatDoesNotHoldTheFolderIsRefused()
    {
        Assert.Contains("must be the watched folder or a folder above it", WatchCommand.Folders(root, inbox, null).Problem);
        Assert.Contains("must be the watched folder or a folder above it", WatchCommand.Folders(inbox, root + "-other", null).Problem);
    }
}
