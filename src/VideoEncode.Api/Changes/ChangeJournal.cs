using System.Data.Common;

namespace VideoEncode.Api.Changes;

/// <summary>
/// What must be written with a job change, in the same transaction, so that a crash keeps both or
/// neither: every registered <see cref="IJobChangeRecorder"/> — the audit trail's entry for a person's
/// action on a job, and the webhook deliveries that announce it, in that order. The job lifecycle calls
/// it from the write that made the changes; the recorders' statements are the same on SQLite and PostgreSQL.
/// </summary>
public sealed class ChangeJournal(IEnumerable<IJobChangeRecorder> recorders)
{
    private readonly IJobChangeRecorder[] recorders = recorders.ToArray();

    /// <param name="actor">The key's name when a person asked for the change (a worker's steps and the host's own pass null).</param>
    public async Task RecordAsync(DbConnection connection, IReadOnlyList<JobChange> changes, string? actor, long now)
    {
        foreach (var recorder in recorders) await recorder.RecordAsync(connection, changes, actor, now);
    }
}
