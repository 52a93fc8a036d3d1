using System.Data.Common;
using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Audit;

/// <summary>The audit trail's entry for a person's action on one job (cancel, retry, reset, delete), written with the change.</summary>
public sealed class JobActionAudit : IJobChangeRecorder
{
    public async Task RecordAsync(DbConnection connection, IReadOnlyList<JobChange> changes, string? actor, long now)
    {
        if (actor is null) return;
        foreach (var change in changes)
            if (AuditedAction(change.Cause) is { } action)
                await AuditTrail.RecordAsync(connection, now, actor, action, change.Job.Id.ToString(),
                    $"{JobChange.SpellFrom(change.From)} -> {JobChange.SpellTo(change.To)}");
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
