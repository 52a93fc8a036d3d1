using System.Threading.Channels;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Watching;

/// <summary>
/// Watches a folder and enqueues each video in it once it has settled (<see cref="SettleTracker"/>).
/// A FileSystemWatcher reports new and changed files at once; a full rescan every
/// <see cref="WatchOptions.Rescan"/> finds what it missed (network shares often send no events,
/// and an event queue can overflow). Everything runs on one loop, which every tick looks again at
/// the files still waiting. While the host cannot be reached, files wait and the loop tries again
/// with a growing pause; nothing is lost, since a file is marked handled only on the host's answer.
/// </summary>
public sealed class FolderWatcher(WatchOptions options, WatchedJobs jobs, ConsoleOutput console, TimeProvider clock)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(60);

    private readonly SettleTracker tracker = new(options.Settle, clock);
    private readonly Channel<string> events = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private TimeSpan retryDelay = FirstRetryDelay;
    private DateTimeOffset retryAt = DateTimeOffset.MinValue;
    private string? outage;

    /// <summary>Runs until <paramref name="stop"/>; answers a problem that makes watching pointless (the host refuses the key), or null.</summary>
    public async Task<string?> RunAsync(CancellationToken stop)
    {
        using var watcher = StartWatcher();
        var nextScan = DateTimeOffset.MinValue;
        try
        {
            while (true)
            {
                var now = clock.GetUtcNow();
                if (clock.GetUtcNow() >= nextScan)
                {
                    foreach (var file in VideoFiles.Under(options.Folder)) tracker.Saw(file);
                    nextScan = now + options.Rescan;
                }
                // An empty path: the watcher lost events. A folder: one moved in, whose files have no events of their own. Both: rescan.
                while (events.Reader.TryRead(out var path))
                    if (path.Length == 0 || Directory.Exists(path)) nextScan = now;
                    else if (VideoFiles.Look(path) is { } file) tracker.Saw(file);
                foreach (var path in tracker.Waiting.ToList())
                    if (VideoFiles.Look(path) is { } file) tracker.Saw(file);
                    else tracker.Gone(path);
                if (clock.GetUtcNow() >= retryAt && await EnqueueSettledAsync(stop) is { } fatal) return fatal;
                await Task.Delay(options.Tick, clock, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<string?> EnqueueSettledAsync(CancellationToken stop)
    {
        foreach (var file in tracker.Settled())
        {
            var name = Path.GetRelativePath(options.InputRoot, file.FullPath).Replace(Path.DirectorySeparatorChar, '/');
            switch (await jobs.EnqueueAsync(name, new WatchedFile(name, file.Size, file.Mtime), stop))
            {
                case EnqueueAnswer.Created created:
                    HostAnswered();
                    console.Info($"Enqueued {name} as job {created.JobId}.");
                    tracker.Handled(file);
                    break;
                case EnqueueAnswer.EnqueuedBefore before:
                    HostAnswered();
                    console.Info($"{name} was enqueued before, as job {before.JobId}.");
                    tracker.Handled(file);
                    break;
                case EnqueueAnswer.Refused refused:
                    HostAnswered();
                    console.Warn($"Skipping {name}: {refused.Why}. It is tried again if it changes.");
                    tracker.Handled(file);
                    break;
                case EnqueueAnswer.WatcherRefused refused:
                    return refused.Why;
                case EnqueueAnswer.Unanswered unanswered:
                    if (outage is null)
                        console.Warn($"Cannot enqueue {name} ({unanswered.Why}); files wait and are enqueued when the host answers.");
                    outage = unanswered.Why;
                    retryAt = clock.GetUtcNow() + retryDelay;
                    retryDelay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, retryDelay.Ticks * 2));
                    return null;
            }
        }
        return null;
    }

    private void HostAnswered()
    {
        if (outage is not null) console.Info("The host answers again.");
        outage = null;
        retryDelay = FirstRetryDelay;
    }

    /// <summary>Events of new, grown and renamed files, into the loop's queue; an empty path asks for a rescan. Null when the system refuses one.</summary>
    private FileSystemWatcher? StartWatcher()
    {
        try
        {
            var watcher = new FileSystemWatcher(options.Folder)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite,
            };
            watcher.Created += (_, e) => events.Writer.TryWrite(e.FullPath);
            watcher.Changed += (_, e) => events.Writer.TryWrite(e.FullPath);
            watcher.Renamed += (_, e) => events.Writer.TryWrite(e.FullPath);
            watcher.Error += (_, _) => events.Writer.TryWrite("");
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // inotify's watch limit, for one: the rescans still find every file, only later.
            console.Warn($"Cannot watch {options.Folder} for changes ({e.Message}); new files are found by the rescan every {options.Rescan.TotalSeconds:0.#} s.");
            return null;
        }
    }
}
