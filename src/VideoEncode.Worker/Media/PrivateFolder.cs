using System.Runtime.InteropServices;

namespace VideoEncode.Worker.Media;

/// <summary>
/// A folder for this user alone: the scratch folder holds every uploaded input and result while a job
/// runs, so another local user must not be able to read it, write into it, or make it first (and so own
/// it). Made with mode 0700; one that exists already must belong to this process's user and grant the
/// group and others nothing. On Windows the temp folder under the user's profile is private already, and
/// nothing is checked.
/// </summary>
internal static partial class PrivateFolder
{
    /// <summary>Read, write and search for the owner alone.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode GroupOrOthers = (UnixFileMode)0b000_111_111;

    /// <summary>
    /// Makes <paramref name="path"/> (and any missing folder above it) with mode 0700, or checks the one there.
    /// </summary>
    /// <exception cref="IOException">It is another user's, or others may use it; the message says what to do.</exception>
    public static void Create(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, OwnerOnly);
        if (OwnerOf(path) is { } owner && owner != UserId)
            throw new IOException($"it belongs to another user (uid {owner}), who can read every video in it; " +
                                  "use a folder of your own (--scratch)");
        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOthers) != 0)
            throw new IOException($"other users may use it (mode {Convert.ToString((int)mode, 8)}); " +
                                  $"make it private (chmod 700 '{path}') or use another folder (--scratch)");
    }

    /// <summary>This process's effective user id, which owns what it creates (0 where there are none: Windows).</summary>
    public static uint UserId => OperatingSystem.IsWindows() ? 0 : GetEffectiveUserId();

    /// <summary>
    /// The user id owning <paramref name="path"/> (links followed), from statx, whose layout is the same on every
    /// architecture Linux runs on; null elsewhere, where only the mode is checked.
    /// </summary>
    private static unsafe uint? OwnerOf(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        const int CurrentFolder = -100, WantUserId = 0x8, UserIdOffset = 20;
        var buffer = stackalloc byte[256];
        if (Statx(CurrentFolder, path, 0, WantUserId, buffer) != 0)
            throw new IOException($"cannot read its owner: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return *(uint*)(buffer + UserIdOffset);
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int folder, string path, int flags, uint mask, byte* buffer);
}
