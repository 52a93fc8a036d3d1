namespace VideoEncode.Worker.Watching;

/// <summary>How `watch` runs: which folder, what its file names are relative to, and its timing.</summary>
/// <param name="Folder">The folder watched, in any depth (full path).</param>
/// <param name="InputRoot">The workers' input root, which job file names are relative to: the folder itself or one above it (full path).</param>
/// <param name="Settle">How long a file's size and mtime must stay the same before it is enqueued.</param>
/// <param name="Rescan">How often the whole folder is listed again, for what change events missed.</param>
public sealed record WatchOptions(string Folder, string InputRoot, TimeSpan Settle, TimeSpan Rescan)
{
    public static readonly TimeSpan DefaultSettle = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultRescan = TimeSpan.FromSeconds(60);

    /// <summary>How often waiting files are looked at again: often enough to enqueue soon after settling, at most once a second.</summary>
    public TimeSpan Tick => TimeSpan.FromTicks(Math.Clamp(Math.Min(Settle.Ticks, Rescan.Ticks) / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.TicksPerSecond));
}
