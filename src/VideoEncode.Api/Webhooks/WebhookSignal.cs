using System.Threading.Channels;
using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// Wakes this host's dispatcher when a write of this host committed deliveries, so they leave at once
/// rather than at the next poll. The outbox notes the deliveries inside the write's transaction; the
/// wake-up waits for the commit (<see cref="JobChangeSink.Publish"/>), since a dispatcher woken
/// earlier could look before the rows are visible. A note left by a write that then rolled back costs one
/// needless look; deliveries another host committed are found by the dispatcher's poll.
/// </summary>
public sealed class WebhookSignal(TimeProvider clock) : IJobChangeListener
{
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int enqueued;

    /// <summary>Deliveries were written in a transaction not yet committed.</summary>
    public void Enqueued() => Volatile.Write(ref enqueued, 1);

    /// <summary>A write of this host committed: wakes the dispatcher if deliveries were written since the last wake-up.</summary>
    void IJobChangeListener.Committed(IReadOnlyList<JobChange> changes)
    {
        // Read first: every job write passes here, and most wrote no delivery.
        if (Volatile.Read(ref enqueued) == 1 && Interlocked.Exchange(ref enqueued, 0) == 1) wake.Writer.TryWrite(true);
    }

    /// <summary>Waits for a wake-up or until <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken stopping)
    {
        using var pollOver = new CancellationTokenSource(timeout, clock);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping, pollOver.Token);
        try
        {
            await wake.Reader.WaitToReadAsync(deadline.Token);
            wake.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // The poll interval passed without a wake-up.
        }
    }
}
