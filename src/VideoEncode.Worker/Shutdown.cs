using System.Runtime.InteropServices;

namespace VideoEncode.Worker;

/// <summary>
/// Ctrl-C and SIGTERM, in two steps. The first stops claiming new jobs and lets running encodes
/// finish; the second stops the encodes too, and their jobs are put back in the queue.
/// </summary>
public sealed class Shutdown : IDisposable
{
    private readonly CancellationTokenSource stopClaiming = new();
    private readonly CancellationTokenSource abort = new();
    private readonly ConsoleOutput console;
    private readonly PosixSignalRegistration[] registrations;

    public Shutdown(ConsoleOutput console)
    {
        this.console = console;
        registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Fires on the first signal: claim nothing more.</summary>
    public CancellationToken StopClaiming => stopClaiming.Token;

    /// <summary>Fires on the second signal: stop running encodes and give their jobs back.</summary>
    public CancellationToken Abort => abort.Token;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // we decide when to exit
        if (!stopClaiming.IsCancellationRequested)
        {
            console.Info("Stopping: no new jobs will be claimed; running encodes will finish. Press Ctrl-C again to stop them now.");
            stopClaiming.Cancel();
        }
        else if (!abort.IsCancellationRequested)
        {
            console.Info("Stopping now: ending running encodes and putting their jobs back in the queue.");
            abort.Cancel();
        }
    }

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stopClaiming.Dispose();
        abort.Dispose();
    }
}
