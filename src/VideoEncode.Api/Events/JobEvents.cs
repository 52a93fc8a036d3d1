using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Events;

/// <summary>
/// The live feed of job changes behind GET /api/events. The last <see cref="ReplayWindow"/>
/// events are kept in memory, so a client that reconnects with Last-Event-ID misses nothing
/// that is still in the window; one that fell further behind (or whose id this host never had)
/// is told to reload instead.
///
/// Ids: on SQLite this host numbers the events, from its start time in microseconds, so they keep
/// growing across restarts. On a shared PostgreSQL store the ids are the database's, and every
/// host sends the same events in the same order under the same ids, so a client resumes on any
/// host; there the ids are unique but not always increasing, which is why a resume looks its id
/// up in the window rather than comparing numbers.
///
/// Each open stream has a <see cref="StreamQueue"/>: a reader too slow to keep up is dropped at once
/// (nothing more is queued for it) and sent a "reset". An event's JSON is made only when a stream
/// first writes it, so changes that nobody reads are never serialised.
/// </summary>
public sealed class JobEvents(TimeProvider clock) : IJobChangeListener
{
    void IJobChangeListener.Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost) => Publish(eventId, notice);

    /// <summary>A passing event, serialised only when someone reads it; the worker's drain is its own business.</summary>
    void IJobChangeListener.Progressed(Job job)
    {
        if (HasSubscribers) PublishTransient(ChangeNotice.Of(JobChange.Same(job with { Drain = false }, ChangeCause.Heartbeat)));
    }

    void IJobChangeListener.ProgressedElsewhere(ChangeNotice notice)
    {
        if (HasSubscribers) PublishTransient(notice);
    }

    public const int ReplayWindow = 10_000;

    private readonly object gate = new();
    private readonly LinkedList<JobEvent> recent = new();
    private readonly Dictionary<long, LinkedListNode<JobEvent>> byId = new();
    private readonly List<StreamQueue> subscribers = [];
    private long lastId = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
    // The id of the event just before the window: a client that saw it has missed nothing.
    private long beforeWindow;

    /// <summary>Sends a change to every subscriber, under <paramref name="id"/> when the store numbered it, or the next number of this host's own.</summary>
    public void Publish(long? id, ChangeNotice notice)
    {
        lock (gate)
        {
            if (recent.Count == 0) beforeWindow = lastId;
            lastId = id ?? lastId + 1;
            var item = new JobEvent(lastId, notice);
            byId[item.Id] = recent.AddLast(item);
            if (recent.Count > ReplayWindow)
            {
                beforeWindow = recent.First!.Value.Id;
                byId.Remove(beforeWindow);
                recent.RemoveFirst();
            }
            Deliver(item);
        }
    }

    /// <summary>Whether any stream is open now: progress that nobody reads is not even serialised.</summary>
    public bool HasSubscribers => SubscriberCount > 0;

    /// <summary>
    /// Sends a passing change — a heartbeat's progress — to the streams open now, without an id and
    /// without keeping it for replay: the next heartbeat supersedes it, and a client that resumes needs
    /// the changes of status it missed, not old progress (which would also push those out of the window).
    /// </summary>
    public void PublishTransient(ChangeNotice notice)
    {
        lock (gate)
        {
            Deliver(new JobEvent(JobEvent.NoId, notice));
        }
    }

    /// <summary>The streams open now.</summary>
    public int SubscriberCount
    {
        get { lock (gate) return subscribers.Count; }
    }

    // Under the gate, so every stream gets the events in the order they were published.
    private void Deliver(JobEvent item)
    {
        for (var i = subscribers.Count - 1; i >= 0; i--)
        {
            if (subscribers[i].Offer(item)) continue;
            // Too slow to keep up: dropped at once, so nothing more is held for it; its stream sends the reset.
            subscribers[i].Drop(lastId);
            subscribers.RemoveAt(i);
        }
    }

    /// <summary>
    /// Starts a feed: the events after <paramref name="afterId"/> still in the window, then every
    /// new one. <c>Missed</c> is true when events the client has not seen are gone.
    /// </summary>
    public Subscription Subscribe(long? afterId)
    {
        var queue = new StreamQueue(clock);
        lock (gate)
        {
            var replay = new List<JobEvent>();
            var missed = false;
            if (afterId is { } after)
            {
                if (byId.TryGetValue(after, out var seen))
                    for (var next = seen.Next; next is not null; next = next.Next) replay.Add(next.Value);
                else if (after == beforeWindow || (recent.Count == 0 && after == lastId))
                    replay.AddRange(recent);
                else
                    missed = true;
            }
            subscribers.Add(queue);
            return new Subscription(this, queue, replay, missed, lastId);
        }
    }

    private void Unsubscribe(StreamQueue queue)
    {
        lock (gate) subscribers.Remove(queue);
    }

    public sealed class Subscription(JobEvents owner, StreamQueue queue, IReadOnlyList<JobEvent> replay, bool missed, long currentId) : IDisposable
    {
        private IReadOnlyList<JobEvent> replay = replay;

        /// <summary>
        /// The events the client missed, once: the subscription lets go of them then, as a stream lives for
        /// hours and they would otherwise outlive the replay window.
        /// </summary>
        public IReadOnlyList<JobEvent> TakeReplay()
        {
            var taken = replay;
            replay = [];
            return taken;
        }

        public bool Missed => missed;
        /// <summary>The newest id when the feed started (for the "reset" event of a client that missed some).</summary>
        public long CurrentId => currentId;
        /// <summary>The events after the replay, as they come; the reset when the reader was dropped.</summary>
        public StreamQueue Live => queue;

        public void Dispose()
        {
            owner.Unsubscribe(queue);
            queue.Dispose();
        }
    }
}
