using VideoEncode.Api.Auth;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>What a bulk request does to each job it names: the single routes' actions.</summary>
public enum BulkAction
{
    Cancel,
    Retry,
    Reset,
    Delete,
}

/// <summary>The statements a bulk action runs, each once over all the jobs it applies to (<see cref="SharedJobSql.Bulk"/>).</summary>
public enum BulkStep
{
    Requeue,
    EndAsCancelled,
    RequestCancel,
    Delete,
}

/// <summary>The jobs a bulk request is about: the ids it lists, or those its filter matches.</summary>
public sealed record BulkTarget(IReadOnlyList<long>? Ids, JobFilter? Filter);

/// <summary>A job as a bulk action judges it, read (on PostgreSQL locked) in the action's transaction.</summary>
public sealed class BulkCandidate
{
    public long Id { get; init; }
    public string Status { get; init; } = "";
    public bool CancelRequested { get; init; }
    public string? OutputName { get; init; }
}

/// <summary>A job the action did not change, and why.</summary>
public sealed record BulkSkip(long Id, string Reason);

/// <summary>
/// What a bulk action did: the changes (published like a single action's), the ids changed, the jobs
/// skipped with their reasons, and whether its filter matched more jobs than one request handles.
/// </summary>
public sealed record BulkResult(IReadOnlyList<JobChange> Changes, IReadOnlyList<long> ChangedIds, IReadOnlyList<BulkSkip> Skipped, bool MoreMatched)
    : IChangeSet;

/// <summary>
/// The rules of bulk actions, the same on both stores: which jobs each action applies to (those the
/// single route would change, except that a bulk delete leaves running jobs alone — cancel them
/// first), which step each takes, and the output names a requeue must find free.
/// </summary>
public static class BulkRules
{
    /// <summary>The most jobs one request names (ids) or handles (a filter: the newest this many that match).</summary>
    public const int MaxJobs = 10_000;

    /// <summary>The answer lists at most this many changed ids and skipped jobs; the counts are always whole.</summary>
    public const int MaxListed = 1000;

    public static readonly IReadOnlyDictionary<string, BulkAction> Names = new Dictionary<string, BulkAction>
    {
        ["cancel"] = BulkAction.Cancel, ["retry"] = BulkAction.Retry, ["reset"] = BulkAction.Reset, ["delete"] = BulkAction.Delete,
    };

    /// <summary>The role an action needs: the single route's.</summary>
    public static Access Needs(BulkAction action) => action is BulkAction.Cancel or BulkAction.Retry ? Access.Submit : Access.Admin;

    private static ChangeCause Cause(BulkAction action, BulkStep step) => step switch
    {
        BulkStep.Requeue => action == BulkAction.Retry ? ChangeCause.Retry : ChangeCause.Reset,
        BulkStep.RequestCancel => ChangeCause.CancelRequest,
        BulkStep.EndAsCancelled => ChangeCause.Cancel,
        _ => ChangeCause.Delete,
    };

    /// <summary>The change one bulk step made to one job, as the single route would have announced it.</summary>
    public static JobChange Change(BulkAction action, BulkStep step, string from, Job job) => step switch
    {
        BulkStep.Delete => new JobChange(job, from, JobChange.Deleted, ChangeCause.Delete),
        BulkStep.RequestCancel => JobChange.Same(job, ChangeCause.CancelRequest),
        _ => JobChange.Moved(from, job, Cause(action, step)),
    };

    /// <summary>The step <paramref name="action"/> takes on <paramref name="job"/>, or why it takes none.</summary>
    private static (BulkStep? Step, string? Reason) StepFor(BulkAction action, BulkCandidate job) => action switch
    {
        BulkAction.Cancel => job.Status switch
        {
            JobStatus.Pending => (BulkStep.EndAsCancelled, null),
            JobStatus.InProgress when !job.CancelRequested => (BulkStep.RequestCancel, null),
            JobStatus.InProgress => (null, "a cancel is already waiting for its worker"),
            _ => (null, $"{job.Status} jobs cannot be cancelled"),
        },
        BulkAction.Retry => job.Status is JobStatus.Failed or JobStatus.Cancelled
            ? (BulkStep.Requeue, null)
            : (null, $"{job.Status} jobs cannot be retried; only failed and cancelled ones"),
        BulkAction.Reset => (BulkStep.Requeue, null),
        _ => job.Status == JobStatus.InProgress ? (null, "running jobs cannot be deleted; cancel them first") : (BulkStep.Delete, null),
    };

    /// <summary>
    /// The output names <paramref name="action"/> would bring back to life (ASCII-lowered, as the
    /// stores compare them): the store looks up which of them a live job holds before <see cref="Judge"/>.
    /// </summary>
    public static IReadOnlyList<string> NamesToCheck(BulkAction action, IEnumerable<BulkCandidate> candidates) =>
        candidates.Where(job => Revives(action, job)).Select(job => JobRules.AsciiLower(job.OutputName!)).Distinct().ToList();

    private static bool Revives(BulkAction action, BulkCandidate job) =>
        job.OutputName is not null && job.Status is not (JobStatus.Pending or JobStatus.InProgress) && StepFor(action, job).Step == BulkStep.Requeue;

    /// <summary>
    /// Each candidate's step, newest first, or why it is skipped: not found, the wrong state, or an
    /// output name that a live job holds (<paramref name="heldNames"/>) or a newer job of this request takes back.
    /// </summary>
    public static (IReadOnlyList<(long Id, BulkStep Step)> Steps, List<BulkSkip> Skipped) Judge(
        BulkAction action, IReadOnlyList<BulkCandidate> candidates, IReadOnlyCollection<long>? askedIds, IEnumerable<string> heldNames)
    {
        var steps = new List<(long, BulkStep)>(candidates.Count);
        var skipped = new List<BulkSkip>();
        var taken = new HashSet<string>(heldNames);
        foreach (var job in candidates.OrderByDescending(job => job.Id))
        {
            var (step, reason) = StepFor(action, job);
            if (step is null)
            {
                skipped.Add(new BulkSkip(job.Id, reason!));
                continue;
            }
            if (Revives(action, job) && !taken.Add(JobRules.AsciiLower(job.OutputName!)))
            {
                skipped.Add(new BulkSkip(job.Id, $"another pending or running job writes its output_name '{job.OutputName}'"));
                continue;
            }
            steps.Add((job.Id, step.Value));
        }
        if (askedIds is not null)
        {
            var found = candidates.Select(job => job.Id).ToHashSet();
            skipped.AddRange(askedIds.Where(id => !found.Contains(id)).Select(id => new BulkSkip(id, "no such job")));
        }
        return (steps, skipped);
    }

    /// <summary>The audit trail's one entry for a bulk action: how many jobs changed and were skipped, and the first ids.</summary>
    public static string AuditDetail(BulkTarget target, IReadOnlyList<long> changed, int skipped)
    {
        const int shown = 20;
        var ids = string.Join(", ", changed.Take(shown)) + (changed.Count > shown ? ", …" : "");
        var by = target.Filter is { } filter ? $" (filter: status {filter.Status ?? "all"}{(filter.Search is null ? "" : $", q \"{filter.Search}\"")})" : "";
        return $"bulk{by}: {changed.Count} changed{(changed.Count > 0 ? $" ({ids})" : "")}, {skipped} skipped";
    }

    public static string AuditAction(BulkAction action) => action switch
    {
        BulkAction.Cancel => "job.cancel",
        BulkAction.Retry => "job.retry",
        BulkAction.Reset => "job.reset",
        _ => "job.delete",
    };
}
