using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Jobs.Heartbeats;

/// <summary>
/// Writes the progress figures that heartbeats answered from memory brought (<see cref="LiveClaims"/>)
/// in one batch every ProgressFlushSeconds, and once more when the host stops, so a restart loses
/// nothing and only a crash loses the last seconds of figures. A batch that fails is not retried: the
/// next beats bring newer figures anyway.
/// </summary>
public sealed class ProgressFlusher(LiveClaims live, IJobStore store, TimeProvider clock, IOptions<QueueOptions> options, ILogger<ProgressFlusher> logger) : BackgroundService
{
    /// <summary>Writes what is unsaved now.</summary>
    public async Task FlushAsync()
    {
        var unsaved = live.TakeUnsaved();
        if (unsaved.Count > 0) await store.SaveProgressAsync(unsaved);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(0.1, options.Value.ProgressFlushSeconds)), clock);
        while (await timer.WaitForNextTickAsync(stopping))
            await FlushOrLogAsync();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushOrLogAsync();
    }

    private async Task FlushOrLogAsync()
    {
        try
        {
            await FlushAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not write the progress heartbeats reported; the next beats bring newer figures.");
        }
    }
}
