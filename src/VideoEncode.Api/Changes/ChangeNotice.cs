using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// What every host hears about one committed change: its event on the live stream (a type and the
/// job's JSON) and the statuses and cause that its counters and claim wake-ups are decided by. On
/// SQLite it is made and announced in the host that wrote the change; on PostgreSQL it is stored
/// with the change, in the same transaction, and every host reads it back (<see cref="Cluster.SharedChangeFeed"/>).
/// </summary>
public sealed class ChangeNotice
{
    // Until Data is first read: a change that no stream reads (SQLite announces every one) is never serialised.
    private JobChange? unread;
    private string? data;

    /// <summary>A notice whose JSON is made already (one read back from the shared store).</summary>
    public ChangeNotice(string type, string data, JobState? from, JobState? to, ChangeCause cause)
    {
        (Type, this.data, From, To, Cause) = (type, data, from, to, cause);
    }

    private ChangeNotice(JobChange change)
    {
        (Type, unread, From, To, Cause) = (EventType(change), change, change.From, change.To, change.Cause);
    }

    /// <summary>The notice of a change; its JSON is made when first read. The job is an immutable record, so it reads the same whenever that is.</summary>
    public static ChangeNotice Of(JobChange change) => new(change);

    public string Type { get; }
    /// <summary>The job's state before; absent for a job just created.</summary>
    public JobState? From { get; }
    /// <summary>The job's state after; absent for a job deleted.</summary>
    public JobState? To { get; }
    public ChangeCause Cause { get; }

    /// <summary>The job's JSON (for a deletion: its id and last status), made on the first read and kept.</summary>
    public string Data
    {
        get
        {
            if (Volatile.Read(ref data) is { } made) return made;
            // Two first readers at once may both serialise; both return the one kept. The change is let go
            // after data is set, so a reader that finds it gone finds data.
            if (Volatile.Read(ref unread) is not { } change) return Volatile.Read(ref data)!;
            var json = EventData(change);
            var kept = Interlocked.CompareExchange(ref data, json, null) ?? json;
            Volatile.Write(ref unread, null);
            return kept;
        }
    }

    public bool MovesStatus => From != To;

    /// <summary>
    /// A job that became claimable: pending now, from another status or by a reset or retry (which
    /// also end a backoff). A retryable failure is pending but backed off: its wake comes when the
    /// lease keeper sees the backoff end.
    /// </summary>
    public bool MakesClaimable => Claimable(From, To, Cause);

    /// <inheritdoc cref="MakesClaimable"/>
    public static bool Claimable(JobState? from, JobState? to, ChangeCause cause) =>
        to == JobState.Pending && cause != ChangeCause.RetryableFail && (from != to || cause is ChangeCause.Reset or ChangeCause.Retry or ChangeCause.PartsReady);

    private const string Created = "created", Deleted = "deleted", Requeued = "requeued", Claimed = "claimed";

    /// <summary>The event types of changes that move a job's status (webhooks offer these); progress and updated keep it.</summary>
    public static readonly IReadOnlyList<string> StatusMoveTypes =
        [Created, Claimed, JobStatus.Finished, JobStatus.Failed, JobStatus.Cancelled, Requeued, Deleted];

    /// <summary>The event stream's type for a change: created, claimed, progress, finished, failed, cancelled, requeued, updated or deleted.</summary>
    public static string EventType(JobChange change) => change switch
    {
        { From: null } => Created,
        { To: null } => Deleted,
        { MovesStatus: false, Cause: ChangeCause.Heartbeat } => "progress",
        { MovesStatus: false } => "updated",
        { To: JobState.Pending } => Requeued,
        { To: JobState.InProgress } => Claimed,
        { To: { } to } => JobStatus.Name(to), // finished, failed, cancelled
    };

    private static string EventData(JobChange change) => change.To is null
        ? JsonSerializer.Serialize(new { id = change.Job.Id, status = JobChange.SpellFrom(change.From) }, WireJson.Options)
        // A claim's token is for its claimer alone; the stream is for everyone with the key.
        : JsonSerializer.Serialize(change.Job with { ClaimToken = null }, WireJson.Options);
}
