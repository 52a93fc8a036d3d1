using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// The events a webhook can subscribe to: "job." and the live stream's type of each change that moves
/// a job's status (job.created, job.claimed, job.finished, job.failed, job.cancelled, job.requeued,
/// job.deleted). Progress and other updates that keep the status are not sent: they are many and
/// worth little to a receiver that the events stream does not serve better.
/// </summary>
public static class WebhookEvents
{
    private const string Prefix = "job.";

    public static readonly IReadOnlyList<string> All = ChangeNotice.StatusMoveTypes.Select(type => Prefix + type).ToArray();

    /// <summary>The webhook event of a change, or null for one that keeps the job's status.</summary>
    public static string? Of(JobChange change) => change.MovesStatus ? Prefix + ChangeNotice.EventType(change) : null;

    /// <summary>How a subscription is stored: the names between commas (",job.finished,job.failed,").</summary>
    public static string Stored(IEnumerable<string> events) => "," + string.Join(',', events) + ",";

    public static IReadOnlyList<string> FromStored(string stored) => stored.Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Does the stored subscription include <paramref name="name"/>?</summary>
    public static bool Includes(string stored, string name) =>
        stored.Contains(string.Concat(",", name, ","), StringComparison.Ordinal);
}
