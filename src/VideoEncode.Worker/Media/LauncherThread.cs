using System.Collections.Concurrent;
using System.Diagnostics;

namespace VideoEncode.Worker.Media;

/// <summary>
/// Starts processes from one thread that lives as long as the worker. The kernel's parent-death
/// signal (setpriv --pdeathsig) fires when the *thread* that forked the child ends, and .NET
/// retires idle thread-pool threads; started from one of those, ffmpeg could be killed mid-encode.
/// </summary>
internal static class LauncherThread
{
    private static readonly BlockingCollection<(Func<Process> Start, TaskCompletionSource<Process> Started)> Requests = [];

    static LauncherThread()
    {
        new Thread(() =>
        {
            foreach (var (start, started) in Requests.GetConsumingEnumerable())
            {
                try { started.SetResult(start()); }
                catch (Exception e) { started.SetException(e); }
            }
        })
        { IsBackground = true, Name = "process launcher" }.Start();
    }

    public static Task<Process> StartAsync(Func<Process> start)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((start, started));
        return started.Task;
    }
}
