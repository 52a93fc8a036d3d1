using System.Data.Common;
using VideoEncode.Api.Audit;

namespace VideoEncode.Api.Changes;

/// <summary>
/// What must be written with a job change, in the same transaction, so that a crash keeps both or
/// neither: the audit trail's entry for a person's action on a job, and the webhook deliveries that
/// announce it (every registered <see cref="IJobChangeRecorder"/>: the webhook outbox). The job
/// lifecycle calls it from the write that made the changes; its statements are the same on SQLite and PostgreSQL.
/// </summary>
public sealed class ChangeJournal(IEnumerable<IJobChangeRecorder> recorders)
{
    private readonly IJobChangeRecorder[] recorders = recorders.ToArray();

    /// <param name="actor">The key's name when a person asked for the change (a worker's steps and the host's own pass null).</param>
    public async Task RecordAsync(DbConnection connection, IReadOnlyList<JobChange> changes, string? actor, long now)
    {
        if (actor is not null)
            foreach (var change in changes)
                if (AuditedAction(change.Cause) is { } action)
                    await AuditTrail.RecordAsync(connection, now, actor, action, change.Job.Id.ToString(), $"{JobChange.SpellFrom(change.From)} -> {JobChange.SpellTo(change.To)}");
        foreach (var recorder in recorders) await recorder.RecordAsync(connection, changes, now);
    }

    private static string? AuditedAction(ChangeCause cause) => cause switch
    {
        ChangeCause.Delete => "job.delete",
        ChangeCause.Reset => "job.reset",
        ChangeCause.Cancel or ChangeCause.CancelRequest => "job.cancel",
        ChangeCause.Retry => "job.retry",
        _ => null,
    };
}
