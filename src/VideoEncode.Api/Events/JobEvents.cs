using System.Text.Json;
using System.Threading.Channels;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Events;

/// <summary>One change to a job, as the event stream sends it: an id to resume from, a type and the job's JSON.</summary>
public sealed record JobEvent(long Id, string Type, string Data);

/// <summary>
/// The live feed of job changes behind GET /api/events. The last <see cref="ReplayWindow"/>
/// events are kept in memory, so a client that reconnects with Last-Event-ID misses nothing
/// that is still in the window; one that fell further behind (or whose ids predate a restart of
/// the host) is told to reload instead. Ids start from the host's start time in microseconds, so
/// they keep growing across restarts.
/// </summary>
public sealed class JobEvents(TimeProvider clock)
{
    public const int ReplayWindow = 10_000;
    private const int SubscriberBuffer = 10_000;

    private readonly object gate = new();
    private readonly Queue<JobEvent> recent = new();
    private readonly List<Channel<JobEvent>> subscribers = [];
    private long lastId = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    public void Publish(string type, Job job) =>
        // A claim's token is for its claimer alone; the stream is for everyone with the key.
        Publish(type, JsonSerializer.Serialize(job with { ClaimToken = null }, WireJson.Options));

    public void PublishDeleted(long jobId, string from) =>
        Publish("deleted", JsonSerializer.Serialize(new { id = jobId, status = from }, WireJson.Options));

    private void Publish(string type, string data)
    {
        lock (gate)
        {
            var item = new JobEvent(++lastId, type, data);
            recent.Enqueue(item);
            if (recent.Count > ReplayWindow) recent.Dequeue();
            foreach (var subscriber in subscribers)
                // A client too slow to keep up is cut off; it reconnects and resumes from its last id.
                if (!subscriber.Writer.TryWrite(item)) subscriber.Writer.TryComplete();
        }
    }

    /// <summary>
    /// Starts a feed: the events after <paramref name="afterId"/> still in the window, then every
    /// new one. <c>Missed</c> is true when events the client has not seen are gone.
    /// </summary>
    public Subscription Subscribe(long? afterId)
    {
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        lock (gate)
        {
            var oldest = recent.Count > 0 ? recent.Peek().Id : lastId + 1;
            var missed = afterId is { } after && (after < oldest - 1 || after > lastId);
            var replay = afterId is { } from && !missed ? recent.Where(e => e.Id > from).ToList() : [];
            subscribers.Add(channel);
            return new Subscription(this, channel, replay, missed, lastId);
        }
    }

    private void Unsubscribe(Channel<JobEvent> channel)
    {
        lock (gate) subscribers.Remove(channel);
    }

    public sealed class Subscription(JobEvents owner, Channel<JobEvent> channel, IReadOnlyList<JobEvent> replay, bool missed, long currentId) : IDisposable
    {
        public IReadOnlyList<JobEvent> Replay => replay;
        public bool Missed => missed;
        /// <summary>The newest id when the feed started (for the "reset" event of a client that missed some).</summary>
        public long CurrentId => currentId;
        public ChannelReader<JobEvent> Live => channel.Reader;
        public void Dispose() => owner.Unsubscribe(channel);
    }
}
