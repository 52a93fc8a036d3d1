using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunFilesTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-runfiles-").FullName;
    private readonly List<string> reported = [];

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void EveryRunOfAJobGetsAHiddenFileOfItsOwnAndDeletingOneLeavesTheOther()
    {
        using var files = RunFiles.Start(root, reported.Add);
        var output = Path.Combine(root, "ep 1.mp4");

        var first = files.CreateTemporary(output, 7);
        var second = files.CreateTemporary(output, 7);   // the same job again: reset, or its lease lapsed
        File.Delete(first);                             // the first run cleans up after losing its claim

        Assert.NotEqual(first, second);
        Assert.True(File.Exists(second));
        Assert.StartsWith($".ep 1.mp4.job7.{files.Worker}.", Path.GetFileName(second));
        Assert.EndsWith(".partial", second);
    }

    [Fact]
    public void ALinkPlantedAtATemporaryNameIsNeverFollowed()
    {
        var victim = Path.Combine(root, "victim.txt");
        File.WriteAllText(victim, "precious");
        var planted = Path.Combine(root, ".a.mp4.job1.planted.partial");
        File.CreateSymbolicLink(planted, victim);
        var dangling = Path.Combine(root, ".a.mp4.job1.dangling.partial");
        File.CreateSymbolicLink(dangling, Path.Combine(root, "would-be-created.txt"));

        Assert.ThrowsAny<IOException>(() => RunFiles.CreateNew(planted));
        Assert.ThrowsAny<IOException>(() => RunFiles.CreateNew(dangling));

        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.False(File.Exists(Path.Combine(root, "would-be-created.txt")));
        Assert.False(RunFiles.IsPlainFile(planted));
    }

    [Fact]
    public void OnlyARegularFileIsPlain()
    {
        var file = Path.Combine(root, "plain");
        File.WriteAllText(file, "x");
        Assert.True(RunFiles.IsPlainFile(file));
        Assert.False(RunFiles.IsPlainFile(Path.Combine(root, "missing")));
        Assert.False(RunFiles.IsPlainFile(root));
    }

    [Fact]
    public void AVeryLongOutputNameIsShortenedInItsTemporaryName()
    {
        using var files = RunFiles.Start(root, reported.Add);
        var temporary = files.CreateTemporary(Path.Combine(root, new string('東', 80) + ".mp4"), 1);   // 244 bytes of name
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(temporary)) < 255);
    }

    [Fact]
    public void StartingSweepsTheFilesOfStoppedWorkersAndKeepsThoseOfLiveOnes()
    {
        using var live = RunFiles.Start(root, reported.Add);
        var liveFile = live.CreateTemporary(Path.Combine(Directory.CreateDirectory(Path.Combine(root, "shows")).FullName, "a.mp4"), 1);
        // A worker that was killed: its lock file is still there, but nobody holds it.
        const string killed = "0123456789abcdef0123456789abcdef";
        var killedLock = Path.Combine(root, RunFiles.LockFolder, killed + ".lock");
        File.WriteAllText(killedLock, "");
        var killedFile = Path.Combine(root, "shows", $".b.mp4.job2.{killed}.00112233aabbccdd.partial");
        File.WriteAllText(killedFile, "half an encode");
        // A worker whose lock cannot be found anywhere: not ours to judge, so kept.
        var orphan = Path.Combine(root, $".c.mp4.job3.{new string('f', 32)}.0011223344556677.partial");
        File.WriteAllText(orphan, "");
        // A live worker whose output root lies inside ours keeps its lock there, not in our lock folder.
        using var nested = RunFiles.Start(Path.Combine(root, "4k"), reported.Add);
        var nestedFile = nested.CreateTemporary(Path.Combine(root, "4k", "e.mp4"), 5);
        // Files that are not ours to judge.
        var oldStyle = Path.Combine(root, ".d.mp4.job4.partial");
        var someoneElses = Path.Combine(root, "notes.partial");
        File.WriteAllText(oldStyle, "");
        File.WriteAllText(someoneElses, "");

        using var starting = RunFiles.Start(root, reported.Add);

        Assert.True(File.Exists(liveFile));
        Assert.False(File.Exists(killedFile));
        Assert.False(File.Exists(killedLock));
        Assert.True(File.Exists(orphan));
        Assert.True(File.Exists(nestedFile));
        Assert.True(File.Exists(oldStyle));
        Assert.True(File.Exists(someoneElses));
        Assert.Equal(1, reported.Count(line => line.Contains("left by a worker that has stopped")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(root, RunFiles.LockFolder)).Length);   // the live worker's and the new one's
    }

    [Fact]
    public void TheSweepDoesNotFollowALinkToAFolderElsewhere()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(root, "elsewhere")).FullName;
        var output = Directory.CreateDirectory(Path.Combine(root, "output")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(output, "link"), elsewhere);
        var outside = Path.Combine(elsewhere, $".e.mp4.job5.{new string('a', 32)}.0011223344556677.partial");
        File.WriteAllText(outside, "");

        using var files = RunFiles.Start(output, reported.Add);

        Assert.True(File.Exists(outside));
    }

    [Fact]
    public void AWorkerThatEndsCleanlyLeavesNoLockFile()
    {
        using (RunFiles.Start(root, reported.Add)) { }
        Assert.Empty(Directory.GetFiles(Path.Combine(root, RunFiles.LockFolder)));
    }
}
