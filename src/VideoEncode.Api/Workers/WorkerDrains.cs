using Dapper;
using VideoEncode.Api.Jobs.Heartbeats;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Workers;

/// <summary>
/// Draining workers: a drained worker finishes its running jobs and claims no more. The drain is
/// workers.draining in the store, so every host sharing a PostgreSQL store agrees and a restart keeps
/// it; the claim statements read it (<see cref="Jobs.SharedJobSql.ClaimAllowed"/>). Each change is
/// written with its audit entry, and a repeat of what already holds changes nothing and records nothing.
///
/// Waiting claims on this host are woken so the drained worker's are answered; on other hosts of a
/// shared store they look again within a second anyway (<see cref="ClaimWaiters.RecheckAfter"/>).
///
/// A drain is lifted only by a person (<see cref="UndrainAsync"/>), never by the worker restarting:
/// a machine is drained for maintenance, and a worker brought back by its service manager must
/// not undo that.
/// </summary>
public sealed class WorkerDrains(IStoreSql store, TimeProvider clock, ClaimWaiters waiters, LiveClaims live)
{
    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Marks a worker draining; one never seen yet gets its row now (last_seen_at 0), so it is
    /// drained from its first claim.
    /// </summary>
    public async Task<WorkerDrain> DrainAsync(string name, string by)
    {
        var now = Now;
        var drain = await store.WriteAsync(async connection =>
        {
            // RETURNING names the row only when it was inserted or changed: a repeat records nothing.
            var changed = await connection.QuerySingleOrDefaultAsync<string>("""
                INSERT INTO workers (name, last_seen_at, lease_seconds, draining) VALUES (@name, 0, 0, 1)
                ON CONFLICT (name) DO UPDATE SET draining = 1 WHERE workers.draining = 0
                RETURNING name
                """, new { name });
            if (changed is not null) await AuditTrail.RecordAsync(connection, now, by, "worker.drain", name);
            return new WorkerDrain(name, Draining: true);
        });
        // Its heartbeats answered from memory would not say so: the next one reads the drain from the store.
        live.ForgetWorker(name);
        // Every long-poll claim on this host tries again, so the drained worker's is answered (rare; a claim that finds nothing waits again).
        waiters.Wake(int.MaxValue);
        return drain;
    }

    /// <summary>Lifts a worker's drain; null when no worker of that name is known. A worker drained before it was ever seen is forgotten again.</summary>
    public async Task<WorkerDrain?> UndrainAsync(string name, string by)
    {
        var now = Now;
        var undrained = await store.WriteAsync(async connection =>
        {
            var draining = await connection.QuerySingleOrDefaultAsync<long?>("SELECT draining FROM workers WHERE name = @name", new { name });
            if (draining is null) return null;
            if (draining == 1)
            {
                await connection.ExecuteAsync("DELETE FROM workers WHERE name = @name AND last_seen_at = 0", new { name });
                await connection.ExecuteAsync("UPDATE workers SET draining = 0 WHERE name = @name", new { name });
                await AuditTrail.RecordAsync(connection, now, by, "worker.undrain", name);
            }
            return new WorkerDrain(name, Draining: false);
        });
        live.ForgetWorker(name);
        return undrained;
    }
}
