using System.Diagnostics;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// The scratch folder holds every uploaded input and result while it is encoded: it is this user's alone, and the
/// clean-up at start removes only what workers made there.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ScratchSpaceTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-scratch-test-").FullName;
    private readonly List<string> reported = [];

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void TheScratchFolderIsMadePrivateToItsUser()
    {
        var scratch = Path.Combine(root, "new", "scratch");
        using (ScratchSpace.Open(scratch, reported.Add))
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(scratch));
    }

    [Theory]
    [InlineData(0b111_101_101)] // 0755: everyone reads
    [InlineData(0b111_111_000)] // 0770: the group writes
    [InlineData(0b111_000_011)] // 0703: others write
    public void AScratchFolderOtherUsersMayUseIsRefused(int mode)
    {
        var scratch = Directory.CreateDirectory(Path.Combine(root, "shared")).FullName;
        File.SetUnixFileMode(scratch, (UnixFileMode)mode);

        var refused = Assert.Throws<IOException>(() => ScratchSpace.Open(scratch, reported.Add));
        Assert.Contains($"chmod 700 '{scratch}'", refused.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }

    [Fact]
    public void AScratchFolderOfAnotherUserIsRefused()
    {
        // As root the test gives a folder away; as anyone else the root folder is another user's already.
        var scratch = "/";
        if (Environment.IsPrivilegedProcess)
        {
            scratch = Directory.CreateDirectory(Path.Combine(root, "theirs"), OwnerOnly).FullName;
            using var chown = Process.Start("chown", ["65534", scratch]);
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }

        var refused = Assert.Throws<IOException>(() => ScratchSpace.Open(scratch, reported.Add));
        Assert.Contains("belongs to another user", refused.Message);
    }

    [Fact]
    public void TheCleanUpAtStartRemovesOnlyFoldersThatStoppedWorkersMarkedAsTheirs()
    {
        var scratch = Directory.CreateDirectory(Path.Combine(root, "scratch"), OwnerOnly).FullName;
        var stopped = Folder(scratch, "0123456789abcdef0123456789abcdef", marker: "0123456789abcdef0123456789abcdef");
        var unmarked = Folder(scratch, "fedcba9876543210fedcba9876543210", marker: null);
        var copied = Folder(scratch, "00000000000000000000000000000000", marker: "0123456789abcdef0123456789abcdef");

        using (ScratchSpace.Open(scratch, reported.Add))
        {
            Assert.False(Directory.Exists(stopped));
            Assert.True(File.Exists(Path.Combine(unmarked, "keep.mkv")));
            Assert.True(File.Exists(Path.Combine(copied, "keep.mkv")));
            Assert.Single(reported, line => line.Contains(stopped));
        }
    }

    private static string Folder(string scratch, string name, string? marker)
    {
        var folder = Directory.CreateDirectory(Path.Combine(scratch, name)).FullName;
        File.WriteAllText(Path.Combine(folder, "keep.mkv"), "video");
        if (marker is not null) File.WriteAllText(Path.Combine(folder, ScratchSpace.Marker), marker);
        return folder;
    }
}
