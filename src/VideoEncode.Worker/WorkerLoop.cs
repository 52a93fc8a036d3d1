using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>
/// Runs --concurrency slots, each claiming and encoding one job at a time until told to stop
/// (or, with --once, until the queue is empty). An idle slot waits inside a long-poll claim, so
/// a new job starts within moments of its enqueue without polling the host.
/// </summary>
public sealed class WorkerLoop(WorkerSettings settings, QueueClient queue, JobRunner runner, ScratchSpace scratch, ConsoleOutput console)
{
    private static readonly TimeSpan LongPoll = TimeSpan.FromSeconds(25);

    public Task RunAsync(CancellationToken stopClaiming, CancellationToken abort) =>
        Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(() => SlotAsync(stopClaiming, abort))));

    private async Task SlotAsync(CancellationToken stopClaiming, CancellationToken abort)
    {
        var wait = settings.Once ? TimeSpan.Zero : LongPoll;
        while (!stopClaiming.IsCancellationRequested)
        {
            var asked = DateTime.UtcNow;
            // Each attempt is a trace of its own, begun before the claim so that the claim is part of it.
            var attempt = JobTracing.StartAttempt(settings.Name);
            var job = await ClaimAsync(wait, stopClaiming);
            if (job is not null)
            {
                JobTracing.Claimed(attempt, job);
                try
                {
                    await runner.RunAsync(job, abort);
                }
                finally
                {
                    attempt?.Stop();
                }
                continue;
            }
            JobTracing.Discard(attempt);
            if (settings.Once || stopClaiming.IsCancellationRequested) return;
            // An empty answer well before the wait ran out: the host did not wait (or refused); do not hammer it.
            if (DateTime.UtcNow - asked < wait / 2)
            {
                try { await Task.Delay(settings.PollInterval, stopClaiming); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task<Job?> ClaimAsync(TimeSpan wait, CancellationToken stopClaiming)
    {
        using var span = JobTracing.Step("claim");
        try
        {
            // Store jobs whose input would not fit in the scratch folder's free space are left to other workers, as are jobs needing an encoder it lacks.
            return await queue.ClaimAsync(settings.Name, wait, stopClaiming, settings.Media, scratch.RoomForInputBytes, settings.Encoders);
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
