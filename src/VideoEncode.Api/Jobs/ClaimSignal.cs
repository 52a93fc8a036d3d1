namespace VideoEncode.Api.Jobs;

/// <summary>
/// Wakes claims that are waiting for work (long-poll) when a job may have become claimable:
/// an enqueue, a reset or retry, a lease that expired, or a retry backoff that ran out. Waiting
/// claims cost nothing while they wait — no polling, no database work.
/// </summary>
public sealed class ClaimSignal(TimeProvider clock)
{
    private TaskCompletionSource next = NewSource();

    /// <summary>
    /// The wake-up to wait for. Take it *before* trying to claim: a pulse that lands between a
    /// failed claim and the wait then still wakes the waiter.
    /// </summary>
    public Task Next => Volatile.Read(ref next).Task;

    public void Pulse() => Interlocked.Exchange(ref next, NewSource()).TrySetResult();

    /// <summary>Pulses at a unix time in the future (when a backed-off job becomes claimable).</summary>
    public void PulseAt(long unixSeconds)
    {
        var delay = DateTimeOffset.FromUnixTimeSeconds(unixSeconds) - clock.GetUtcNow();
        if (delay <= TimeSpan.Zero) Pulse();
        else _ = Task.Delay(delay, clock).ContinueWith(_ => Pulse(), TaskScheduler.Default);
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
