using VideoEncode.Api.Auth;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>The jobs a bulk request is about: the ids it lists, or those its filter matches.</summary>
public sealed record BulkTarget(IReadOnlyList<long>? Ids, JobFilter? Filter);

/// <summary>A job as a bulk action judges it, read (on PostgreSQL locked) in the action's transaction.</summary>
public sealed class BulkCandidate
{
    public long Id { get; init; }
    /// <summary>jobs.status, as stored; <see cref="State"/> is what rules decide with.</summary>
    public string Status { get; init; } = "";
    public bool CancelRequested { get; init; }
    public string? OutputName { get; init; }

    public JobState State => JobStatus.Parse(Status) ?? throw new FormatException($"Unknown job status '{Status}'.");
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
/// The rules of bulk actions, the same on both stores: each job's move is the single route's, from
/// <see cref="JobTransitions.Decide"/>; here are what a bulk request may name, the output names a
/// requeue must find free among the jobs it revives, and the audit entry.
/// </summary>
public static class BulkRules
{
    /// <summary>The most jobs one request names (ids) or handles (a filter: the newest this many that match).</summary>
    public const int MaxJobs = 10_000;

    /// <summary>The answer lists at most this many changed ids and skipped jobs; the counts are always whole.</summary>
    public const int MaxListed = 1000;

    public static readonly IReadOnlyDictionary<string, JobAction> Names = new Dictionary<string, JobAction>
    {
        ["cancel"] = JobAction.Cancel, ["retry"] = JobAction.Retry, ["reset"] = JobAction.Reset, ["delete"] = JobAction.Delete,
    };

    /// <summary>The role an action needs: the single route's.</summary>
    public static Access Needs(JobAction action) => action is JobAction.Cancel or JobAction.Retry ? Access.Submit : Access.Admin;

    /// <summary>
    /// The output names <paramref name="action"/> would bring back to life (ASCII-lowered, as the
    /// stores compare them): the store looks up which of them a live job holds before <see cref="Judge"/>.
    /// </summary>
    public static IReadOnlyList<string> NamesToCheck(JobAction action, IEnumerable<BulkCandidate> candidates) =>
        candidates.Where(job => Revives(action, job)).Select(job => JobRules.AsciiLower(job.OutputName!)).Distinct().ToList();

    private static Verdict Decide(JobAction action, BulkCandidate job) => JobTransitions.Decide(action, job.State, job.CancelRequested, bulk: true);

    private static bool Revives(JobAction action, BulkCandidate job) =>
        job.OutputName is not null && Decide(action, job).Move is { } move && JobTransitions.Revives(move, job.State);

    /// <summary>
    /// Each candidate's step, newest first, or why it is skipped: not found, the wrong state, or an
    /// output name that a live job holds (<paramref name="heldNames"/>) or a newer job of this request takes back.
    /// </summary>
    public static (IReadOnlyList<(long Id, JobMove Move)> Moves, List<BulkSkip> Skipped) Judge(
        JobAction action, IReadOnlyList<BulkCandidate> candidates, IReadOnlyCollection<long>? askedIds, IEnumerable<string> heldNames)
    {
        var moves = new List<(long, JobMove)>(candidates.Count);
        var skipped = new List<BulkSkip>();
        var taken = new HashSet<string>(heldNames);
        foreach (var job in candidates.OrderByDescending(job => job.Id))
        {
            var verdict = Decide(action, job);
            if (verdict.Move is not { } move)
            {
                skipped.Add(new BulkSkip(job.Id, verdict.Reason!));
                continue;
            }
            if (Revives(action, job) && !taken.Add(JobRules.AsciiLower(job.OutputName!)))
            {
                skipped.Add(new BulkSkip(job.Id, $"another pending or running job writes its output_name '{job.OutputName}'"));
                continue;
            }
            moves.Add((job.Id, move));
        }
        if (askedIds is not null)
        {
            var found = candidates.Select(job => job.Id).ToHashSet();
            skipped.AddRange(askedIds.Where(id => !found.Contains(id)).Select(id => new BulkSkip(id, "no such job")));
        }
        return (moves, skipped);
    }

    /// <summary>The audit trail's one entry for a bulk action: how many jobs changed and were skipped, and the first ids.</summary>
    public static string AuditDetail(BulkTarget target, IReadOnlyList<long> changed, int skipped)
    {
        const int shown = 20;
        var ids = string.Join(", ", changed.Take(shown)) + (changed.Count > shown ? ", …" : "");
        var by = target.Filter is { } filter ? $" (filter: status {filter.Status ?? "all"}{(filter.Search is null ? "" : $", q \"{filter.Search}\"")})" : "";
        return $"bulk{by}: {changed.Count} changed{(changed.Count > 0 ? $" ({ids})" : "")}, {skipped} skipped";
    }

    public static string AuditAction(JobAction action) => action switch
    {
        JobAction.Cancel => "job.cancel",
        JobAction.Retry => "job.retry",
        JobAction.Reset => "job.reset",
        _ => "job.delete",
    };
}
