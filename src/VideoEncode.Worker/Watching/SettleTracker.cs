namespace VideoEncode.Worker.Watching;

/// <summary>
/// Which found files have settled: a file counts once its size and mtime have stayed the same for
/// the settle time, measured by this machine's clock (so a copy in progress, whose size or mtime
/// keeps changing, is waited out, and another machine's clock does not matter). A file handled
/// (enqueued, found enqueued before, or refused) is not offered again until its size or mtime
/// changes: then it is a new file. A file that disappears is simply forgotten.
/// </summary>
public sealed class SettleTracker(TimeSpan settle, TimeProvider clock)
{
    private readonly Dictionary<string, (long Size, long Mtime, DateTimeOffset Since)> waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Size, long Mtime)> handled = new(StringComparer.Ordinal);

    /// <summary>The files waiting to settle (or for the host), by full path.</summary>
    public IReadOnlyCollection<string> Waiting => waiting.Keys;

    /// <summary>Notes a file as it is now: new, changed (its settle time starts again) or the same.</summary>
    public void Saw(FoundFile file)
    {
        if (handled.TryGetValue(file.FullPath, out var done) && done == (file.Size, file.Mtime)) return;
        if (waiting.TryGetValue(file.FullPath, out var seen) && (seen.Size, seen.Mtime) == (file.Size, file.Mtime)) return;
        waiting[file.FullPath] = (file.Size, file.Mtime, clock.GetUtcNow());
    }

    /// <summary>A waiting file that is no longer there.</summary>
    public void Gone(string fullPath) => waiting.Remove(fullPath);

    /// <summary>The waiting files whose size and mtime have not changed for the settle time.</summary>
    public IReadOnlyList<FoundFile> Settled()
    {
        var now = clock.GetUtcNow();
        return waiting.Where(entry => now - entry.Value.Since >= settle)
            .Select(entry => new FoundFile(entry.Key, entry.Value.Size, entry.Value.Mtime)).ToList();
    }

    /// <summary>The file is dealt with in this size and mtime.</summary>
    public void Handled(FoundFile file)
    {
        waiting.Remove(file.FullPath);
        handled[file.FullPath] = (file.Size, file.Mtime);
    }
}
