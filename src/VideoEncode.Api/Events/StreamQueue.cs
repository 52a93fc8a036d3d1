using System.Threading.Channels;

namespace VideoEncode.Api.Events;

/// <summary>
/// The events waiting to be written to one open stream, bounded so that a reader too slow to keep up
/// costs a fixed amount and is then dropped with a "reset" rather than buffered.
///
/// The rule: a change of status (an event with an id) that finds the queue full drops the reader;
/// it is sent a reset and reloads, so no change of status is ever lost silently. Progress (no id) is
/// queued only while the queue is less than half full and is otherwise skipped for this reader: the
/// next heartbeat brings newer figures, and a burst of progress — thousands a second from a large
/// farm — must neither drop a reader nor crowd out the room its changes of status need.
/// </summary>
public sealed class StreamQueue(TimeProvider clock) : IDisposable
{
    /// <summary>
    /// Counted in events, not bytes: the events are shared by every stream (their bytes are made once),
    /// so a queue holds references — 8 KB at most, 4 MB for 500 streams. A thousand changes of status is
    /// far more than a reader that keeps up ever has waiting (it takes everything at each write), and a
    /// reader that far behind is better served by reloading the list than by replaying the backlog.
    /// </summary>
    public const int Capacity = 1_000;

    /// <summary>Progress is queued only below this: the rest of the queue is kept for changes of status.</summary>
    public const int ProgressRoom = Capacity / 2;

    /// <summary>
    /// How long a dropped reader has to take its reset (and to finish the write it is in): long enough for a
    /// slow reader to drain what the socket buffers hold — megabytes — and still get the reset; a reader that
    /// stopped reading would otherwise hold its stream open for ever. Kestrel closes the connection when
    /// the writes are given up.
    /// </summary>
    public static readonly TimeSpan ResetTimeout = TimeSpan.FromSeconds(30);

    private readonly object gate = new();
    private List<JobEvent> queued = [];
    private JobEvent? reset;
    // Holds at most one wake-up: it is set when the queue stops being empty, and the stream takes all at once.
    private readonly Channel<bool> ready = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    // Its CancelAfter runs on the clock.
    private readonly CancellationTokenSource deadline = new(Timeout.InfiniteTimeSpan, clock);

    /// <summary>Cancelled <see cref="ResetTimeout"/> after the reader was dropped: the stream's writes give up then.</summary>
    public CancellationToken Deadline => deadline.Token;

    /// <summary>Queues an event; false when it is a change of status that does not fit, and the reader must be dropped.</summary>
    public bool Offer(JobEvent item)
    {
        var progress = item.Id == JobEvent.NoId;
        lock (gate)
        {
            if (queued.Count >= (progress ? ProgressRoom : Capacity)) return progress;
            queued.Add(item);
            if (queued.Count > 1) return true;
        }
        ready.Writer.TryWrite(true);
        return true;
    }

    /// <summary>Drops the reader: what was queued is let go at once, and the stream is woken to send a reset under <paramref name="newestId"/>.</summary>
    public void Drop(long newestId)
    {
        lock (gate)
        {
            reset = JobEvent.Reset(newestId);
            queued = [];
        }
        deadline.CancelAfter(ResetTimeout);
        ready.Writer.TryWrite(true);
    }

    /// <summary>Waits until something is queued (true) or <paramref name="idle"/> passed without (false).</summary>
    public async Task<bool> WaitAsync(TimeSpan idle, CancellationToken aborted)
    {
        using var idleOver = new CancellationTokenSource(idle, clock);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted, idleOver.Token);
        try
        {
            await ready.Reader.WaitToReadAsync(wait.Token);
            ready.Reader.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Moves everything queued into <paramref name="batch"/> (an empty list, which the queue keeps for
    /// the next events); returns the reset instead when the reader was dropped.
    /// </summary>
    public JobEvent? TakeAll(ref List<JobEvent> batch)
    {
        lock (gate)
        {
            if (reset is not null) return reset;
            (queued, batch) = (batch, queued);
            return null;
        }
    }

    /// <summary>Stops the deadline's timer; only once the queue is no longer a subscriber, so no drop can come after.</summary>
    public void Dispose() => deadline.Dispose();

    /// <summary>The events waiting now (for tests of the bound).</summary>
    public int Count
    {
        get { lock (gate) return queued.Count; }
    }
}
