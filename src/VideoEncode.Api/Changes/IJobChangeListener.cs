using System.Data.Common;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// Something that acts on committed job changes: the event stream, the metrics, the webhook dispatcher's
/// wake-up, waiting claims, the in-memory claims. Each registers itself in DI as one of these, and
/// <see cref="JobChangeSink"/> calls every one; the sink knows none of them. Calls come on the writer's
/// thread, right after the commit and before the writer answers, so each must be quick and never throw.
/// </summary>
public interface IJobChangeListener
{
    /// <summary>Every change one write of this host committed, progress included, in the order made.</summary>
    void Committed(IReadOnlyList<JobChange> changes) { }

    /// <summary>
    /// A change every host hears once, in one order (not progress): on SQLite this host's own, straight
    /// after <see cref="Committed"/>; on a shared store every host's, read back from the change feed, under
    /// the database's <paramref name="eventId"/>. <paramref name="fromOtherHost"/>: made by another host,
    /// so this host's <see cref="Committed"/> never saw it.
    /// </summary>
    void Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost) { }

    /// <summary>A heartbeat's figures on this host: written by the store or answered from memory.</summary>
    void Progressed(Job job) { }

    /// <summary>Another host's heartbeat figures, from the change feed.</summary>
    void ProgressedElsewhere(ChangeNotice notice) { }

    /// <summary>Jobs whose retry backoff ended (the lease keeper finds them): that many became claimable.</summary>
    void BackoffsEnded(int jobs) { }
}

/// <summary>
/// Something written with a job change in the write's own transaction (<see cref="ChangeJournal"/>),
/// so that a crash keeps both or neither: the audit of a person's action and the webhook outbox register themselves as one.
/// </summary>
public interface IJobChangeRecorder
{
    /// <param name="actor">The key's name when a person asked for the change (a worker's steps and the host's own pass null).</param>
    Task RecordAsync(DbConnection connection, IReadOnlyList<JobChange> changes, string? actor, long now);
}
