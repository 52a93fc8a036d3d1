using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

public sealed class DurableTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-durable-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void ARealFolderIsFlushedAndItsDescriptorClosed()
    {
        Durable.FlushFolder(root);

        Assert.DoesNotContain(root, OpenFiles());
    }

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

        Assert.Equal([nested, Path.Combine(root, "new"), root], Durable.FoldersUpTo(nested, root + "/"));
        var upToTheTop = Durable.FoldersUpTo(root, "/").ToList();
        Assert.Equal(root, upToTheTop[0]);
        Assert.Equal("/", upToTheTop[^1]);
        Assert.Equal(root.Count(c => c == '/') + 1, upToTheTop.Count);
        Durable.FlushFolders(nested, root + "/");
        Durable.FlushFolders(root, "/");
        Assert.DoesNotContain(OpenFiles(), file => file.StartsWith(root, StringComparison.Ordinal));
    }

    /// <summary>What this process's file descriptors point at (Linux).</summary>
    private static List<string> OpenFiles()
    {
        var targets = new List<string>();
        foreach (var descriptor in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(descriptor).LinkTarget is { } target) targets.Add(target);
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }
        return targets;
    }
}
