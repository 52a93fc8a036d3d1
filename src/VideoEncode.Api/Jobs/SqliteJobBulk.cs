using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Bulk actions on SQLite: one write on the single writer reads the jobs, judges them
/// (<see cref="BulkRules"/>) and runs each step once over all the jobs it applies to; lists of ids
/// travel as one JSON array (json_each), so a statement is the same text for any number of jobs.
/// </summary>
public sealed partial class SqliteJobStore
{
    private const string InIds = "id IN (SELECT value FROM json_each(@ids))";

    public Task<BulkResult> BulkAsync(BulkAction action, BulkTarget target, string actor, CancellationToken cancel)
    {
        var now = Now;
        // No actor for the journal: the audit trail gets one entry for the whole action, written here.
        return CommitAsync(connection =>
        {
            var (candidates, more) = BulkCandidates(connection, target);
            var held = LiveNames(connection, BulkRules.NamesToCheck(action, candidates));
            var (steps, skipped) = BulkRules.Judge(action, candidates, target.Ids, held);
            var before = candidates.ToDictionary(job => job.Id, job => job.Status);
            var changes = new List<JobChange>(steps.Count);
            foreach (var group in steps.GroupBy(step => step.Step))
            {
                var ids = JsonSerializer.Serialize(group.Select(step => step.Id));
                foreach (var job in connection.Query<Job>(SharedJobSql.Bulk(group.Key, InIds), new { ids, now, step = (string?)null }))
                    changes.Add(BulkRules.Change(action, group.Key, before[job.Id], job));
            }
            var changed = changes.Select(change => change.Job.Id).OrderDescending().ToList();
            if (changed.Count > 0)
                AuditTrail.RecordAsync(connection, now, actor, BulkRules.AuditAction(action), "bulk", BulkRules.AuditDetail(target, changed, skipped.Count))
                    .GetAwaiter().GetResult(); // completes synchronously, as every Microsoft.Data.Sqlite call does
            return new BulkResult(changes, changed, skipped, more);
        }, cancel);
    }

    /// <summary>The jobs named, or the newest <see cref="BulkRules.MaxJobs"/> the filter matches, and whether it matched more.</summary>
    private static (IReadOnlyList<BulkCandidate> Jobs, bool More) BulkCandidates(SqliteConnection connection, BulkTarget target)
    {
        if (target.Ids is { } asked)
            return (connection.Query<BulkCandidate>(
                $"SELECT id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM jobs WHERE {InIds}",
                new { ids = JsonSerializer.Serialize(asked) }).AsList(), false);
        var (sql, parameters) = Select(target.Filter!).Candidates(BulkRules.MaxJobs + 1);
        var found = connection.Query<BulkCandidate>(sql, parameters).AsList();
        return found.Count > BulkRules.MaxJobs ? (found.Take(BulkRules.MaxJobs).ToList(), true) : (found, false);
    }

    /// <summary>Which of <paramref name="names"/> (lowered) a live job writes, from the unique index on live output names.</summary>
    private static IEnumerable<string> LiveNames(SqliteConnection connection, IReadOnlyList<string> names) =>
        names.Count == 0 ? [] : connection.Query<string>(
            $"SELECT output_name FROM jobs WHERE output_name COLLATE NOCASE IN (SELECT value FROM json_each(@names)) AND {JobRules.Live}",
            new { names = JsonSerializer.Serialize(names) }).Select(JobRules.AsciiLower);
}
