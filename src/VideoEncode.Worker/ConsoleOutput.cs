using System.Collections.Concurrent;
using System.Globalization;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>
/// Everything the worker prints. On a terminal, the running encodes share one live status line
/// (percent, fps, speed, ETA) that log lines scroll above; when output goes to a file or a pipe,
/// each running encode gets a plain progress line every ten seconds instead.
/// </summary>
public sealed class ConsoleOutput : IAsyncDisposable
{
    private readonly TextWriter output;
    private readonly bool live;
    private readonly TimeProvider time;
    private readonly object gate = new();
    private readonly ConcurrentDictionary<long, (string Name, EncodeProgress? Progress)> running = new();
    private readonly PeriodicTimer timer;
    private readonly Task refresher;
    private string shownStatus = "";

    /// <param name="time">The clock of the status line's refreshes; by default the system's.</param>
    public ConsoleOutput(TextWriter output, bool live, TimeProvider? time = null)
    {
        this.output = output;
        this.live = live;
        this.time = time ?? TimeProvider.System;
        timer = new PeriodicTimer(live ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(10), this.time);
        refresher = Task.Run(RefreshAsync);
    }

    public void Info(string message) => Write(message);

    public void Warn(string message) => Write("warning: " + message);

    public void Started(long jobId, string name) => running[jobId] = (name, null);

    public void Progress(long jobId, EncodeProgress progress) =>
        running.AddOrUpdate(jobId, _ => ("", progress), (_, entry) => (entry.Name, progress));

    public void Ended(long jobId)
    {
        running.TryRemove(jobId, out _);
        if (live) lock (gate) DrawStatus();
    }

    public static string Describe(long jobId, string name, EncodeProgress? progress)
    {
        if (progress is null) return $"job {jobId} {name}: starting";
        var parts = new List<string> { $"job {jobId} {name}:" };
        parts.Add(progress.Percent is { } percent ? $"{percent,5:0.0}%" : $"{progress.Position:hh\\:mm\\:ss}");
        if (progress.Fps is { } fps) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{fps:0} fps"));
        if (progress.Speed is { } speed) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{speed:0.##}x"));
        if (progress.Eta is { } eta) parts.Add($"ETA {(int)eta.TotalMinutes}:{eta.Seconds:00}");
        return string.Join(' ', parts);
    }

    private string StatusLine() =>
        string.Join("  |  ", running.OrderBy(entry => entry.Key).Select(entry => Describe(entry.Key, entry.Value.Name, entry.Value.Progress)));

    private void Write(string message)
    {
        var line = $"{time.GetLocalNow():HH:mm:ss} {message}";
        lock (gate)
        {
            if (live && shownStatus.Length > 0) output.Write("\r\u001b[2K");
            output.WriteLine(line);
            if (live) DrawStatus();
            output.Flush();
        }
    }

    // Called with the gate held.
    private void DrawStatus()
    {
        shownStatus = StatusLine();
        output.Write("\r\u001b[2K" + shownStatus);
        output.Flush();
    }

    private async Task RefreshAsync()
    {
        while (await timer.WaitForNextTickAsync())
        {
            if (live)
                lock (gate) DrawStatus();
            else
                foreach (var (id, (name, progress)) in running.OrderBy(entry => entry.Key))
                    Write(Describe(id, name, progress));
        }
    }

    public async ValueTask DisposeAsync()
    {
        timer.Dispose();
        await refresher;
        if (live) lock (gate) output.Write("\r\u001b[2K");
        output.Flush();
    }
}
