using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

public sealed class DurableTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-durable-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void ARealFolderIsFlushed() => Durable.FlushFolder(root);

    [Fact]
    public void AMissingFolderIsAnIOExceptionThatSaysWhy()
    {
        var missing = Path.Combine(root, "gone");
        var failure = Assert.Throws<IOException>(() => Durable.FlushFolder(missing));
        Assert.Contains(missing, failure.Message);
        Assert.Contains("No such file or directory", failure.Message);
    }

    [Fact]
    public void AFileIsNotTakenForAFolder()
    {
        var file = Path.Combine(root, "result.mp4");
        File.WriteAllText(file, "x");
        Assert.Contains("Not a directory", Assert.Throws<IOException>(() => Durable.FlushFolder(file)).Message);
    }

    [Fact]
    public void NewFoldersAreFlushedUpToTheRootEvenWhenTheRootIsTheFileSystemsOwn()
    {
        var nested = Directory.CreateDirectory(Path.Combine(root, "new", "folders")).FullName;
        Durable.FlushFolders(nested, root + "/");
        Durable.FlushFolders(root, "/");
    }
}
