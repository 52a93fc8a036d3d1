using Dapper;
using Npgsql;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Bulk actions on PostgreSQL: one transaction locks the jobs (FOR UPDATE, so a worker's step or
/// another host's action on one of them waits, and claims skip them), judges them
/// (<see cref="BulkRules"/>), locks the output names a requeue takes back as a single requeue does,
/// and runs each step once over all the jobs it applies to (id = ANY(@ids)).
/// </summary>
public sealed partial class PostgresJobStore
{
    private const string AnyOfIds = "id = ANY(@ids)";

    public Task<BulkResult> BulkAsync(BulkAction action, BulkTarget target, string actor, CancellationToken cancel)
    {
        var now = Now;
        // No actor for the journal: the audit trail gets one entry for the whole action, written here.
        return CommitAsync(async connection =>
        {
            var (candidates, more) = await BulkCandidatesAsync(connection, target);
            var names = BulkRules.NamesToCheck(action, candidates);
            IEnumerable<string> held = [];
            if (names.Count > 0)
            {
                await LockNamesAsync(connection, names);
                held = (await LiveHoldersAsync(connection, names)).Select(JobRules.AsciiLower);
            }
            var (steps, skipped) = BulkRules.Judge(action, candidates, target.Ids, held);
            var before = candidates.ToDictionary(job => job.Id, job => job.Status);
            var changes = new List<JobChange>(steps.Count);
            foreach (var group in steps.GroupBy(step => step.Step))
                foreach (var job in await connection.QueryAsync<Job>(SharedJobSql.Bulk(group.Key, AnyOfIds),
                             new { ids = group.Select(step => step.Id).ToArray(), now, step = (string?)null }))
                    changes.Add(BulkRules.Change(action, group.Key, before[job.Id], job));
            var changed = changes.Select(change => change.Job.Id).OrderDescending().ToList();
            if (changed.Count > 0)
                await AuditTrail.RecordAsync(connection, now, actor, BulkRules.AuditAction(action), "bulk", BulkRules.AuditDetail(target, changed, skipped.Count));
            return new BulkResult(changes, changed, skipped, more);
        }, cancel);
    }

    /// <summary>The jobs named, or the newest <see cref="BulkRules.MaxJobs"/> the filter matches, and whether it matched more; locked.</summary>
    private static async Task<(IReadOnlyList<BulkCandidate> Jobs, bool More)> BulkCandidatesAsync(NpgsqlConnection connection, BulkTarget target)
    {
        if (target.Ids is { } asked)
            return ((await connection.QueryAsync<BulkCandidate>(
                $"SELECT id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM jobs WHERE {AnyOfIds} ORDER BY id DESC FOR UPDATE",
                new { ids = asked.ToArray() })).AsList(), false);
        var (sql, parameters) = Select(target.Filter!).Candidates(BulkRules.MaxJobs + 1, "FOR UPDATE");
        var found = (await connection.QueryAsync<BulkCandidate>(sql, parameters)).AsList();
        return found.Count > BulkRules.MaxJobs ? (found.Take(BulkRules.MaxJobs).ToList(), true) : (found, false);
    }
}
