namespace VideoEncode.Worker;

/// <summary>
/// Runs --concurrency slots, each claiming and encoding one job at a time until told to stop
/// (or, with --once, until the queue is empty).
/// </summary>
public sealed class WorkerLoop(WorkerSettings settings, QueueClient queue, JobRunner runner, ConsoleOutput console)
{
    public Task RunAsync(CancellationToken stopClaiming, CancellationToken abort) =>
        Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(() => SlotAsync(stopClaiming, abort))));

    private async Task SlotAsync(CancellationToken stopClaiming, CancellationToken abort)
    {
        while (!stopClaiming.IsCancellationRequested)
        {
            var job = await ClaimAsync(stopClaiming, abort);
            if (job is not null)
            {
                await runner.RunAsync(job, abort);
                continue;
            }
            if (settings.Once || stopClaiming.IsCancellationRequested) return;
            try
            {
                await Task.Delay(settings.PollInterval, stopClaiming);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<Contracts.Job?> ClaimAsync(CancellationToken stopClaiming, CancellationToken abort)
    {
        try
        {
            return await queue.ClaimAsync(stopClaiming, abort);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (QueueRejectedException e)
        {
            console.Warn($"Claim refused: {e.Message}");
            return null;
        }
    }
}
