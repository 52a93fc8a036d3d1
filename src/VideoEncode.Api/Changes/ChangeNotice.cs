using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// What every host hears about one committed change: its event on the live stream (a type and the
/// job's JSON) and the statuses and cause that its counters and claim wake-ups are decided by. On
/// SQLite it is made and announced in the host that wrote the change; on PostgreSQL it is stored
/// with the change, in the same transaction, and every host reads it back (<see cref="Cluster.SharedChangeFeed"/>).
/// </summary>
public sealed record ChangeNotice(string Type, string Data, string From, string To, ChangeCause Cause)
{
    public static ChangeNotice Of(JobChange change) => new(EventType(change), EventData(change), change.From, change.To, change.Cause);

    public bool MovesStatus => From != To;

    /// <summary>
    /// A job that became claimable: pending now, from another status or by a reset or retry (which
    /// also end a backoff). A retryable failure is pending but backed off: its wake comes when the
    /// lease keeper sees the backoff end.
    /// </summary>
    public bool MakesClaimable => Claimable(From, To, Cause);

    /// <inheritdoc cref="MakesClaimable"/>
    public static bool Claimable(string from, string to, ChangeCause cause) =>
        to == JobStatus.Pending && cause != ChangeCause.RetryableFail && (from != to || cause is ChangeCause.Reset or ChangeCause.Retry);

    private const string Created = "created", Deleted = "deleted", Requeued = "requeued", Claimed = "claimed";

    /// <summary>The event types of changes that move a job's status (webhooks offer these); progress and updated keep it.</summary>
    public static readonly IReadOnlyList<string> StatusMoveTypes =
        [Created, Claimed, JobStatus.Finished, JobStatus.Failed, JobStatus.Cancelled, Requeued, Deleted];

    /// <summary>The event stream's type for a change: created, claimed, progress, finished, failed, cancelled, requeued, updated or deleted.</summary>
    public static string EventType(JobChange change) => change switch
    {
        { From: JobChange.Created } => Created,
        { To: JobChange.Deleted } => Deleted,
        { MovesStatus: false, Cause: ChangeCause.Heartbeat } => "progress",
        { MovesStatus: false } => "updated",
        { To: JobStatus.Pending } => Requeued,
        { To: JobStatus.InProgress } => Claimed,
        _ => change.To, // finished, failed, cancelled
    };

    private static string EventData(JobChange change) => change.To == JobChange.Deleted
        ? JsonSerializer.Serialize(new { id = change.Job.Id, status = change.From }, WireJson.Options)
        // A claim's token is for its claimer alone; the stream is for everyone with the key.
        : JsonSerializer.Serialize(change.Job with { ClaimToken = null }, WireJson.Options);
}
