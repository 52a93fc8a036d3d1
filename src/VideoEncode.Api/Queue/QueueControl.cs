using System.Data.Common;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Queue;

/// <summary>
/// Pausing the queue and draining workers. Both are rows in the store — queue_state's one row and
/// workers.draining — so every host sharing a PostgreSQL store agrees and a restart keeps them; the
/// claim statements read them (<see cref="Jobs.SharedJobSql.ClaimAllowed"/>), so a claim racing a
/// pause is judged by what was committed. Each change is written with its audit entry, and a repeat
/// of what already holds changes nothing and records nothing.
///
/// Waiting claims on this host are woken when claims may go through again (resume) or must be told
/// to stop (drain); on other hosts of a shared store they look again within a second anyway
/// (<see cref="ClaimWaiters.RecheckAfter"/>).
///
/// A drain is lifted only by a person (<see cref="UndrainAsync"/>), never by the worker restarting:
/// a machine is drained for maintenance, and a worker brought back by its service manager must
/// not undo that.
/// </summary>
public sealed class QueueControl(IStoreSql store, TimeProvider clock, ClaimWaiters waiters, LiveClaims live)
{
    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public Task<QueueState> StateAsync() => store.ReadAsync(ReadStateAsync);

    public async Task<QueueState> PauseAsync(string by)
    {
        var now = Now;
        return await store.WriteAsync(async connection =>
        {
            if (await connection.ExecuteAsync("UPDATE queue_state SET paused = 1, paused_at = @now, paused_by = @by WHERE id = 1 AND paused = 0",
                    new { now, by }) == 1)
                await AuditTrail.RecordAsync(connection, now, by, "queue.pause", target: null);
            return await ReadStateAsync(connection);
        });
    }

    public async Task<QueueState> ResumeAsync(string by)
    {
        var now = Now;
        var state = await store.WriteAsync(async connection =>
        {
            if (await connection.ExecuteAsync("UPDATE queue_state SET paused = 0, paused_at = NULL, paused_by = NULL WHERE id = 1 AND paused = 1") == 1)
                await AuditTrail.RecordAsync(connection, now, by, "queue.resume", target: null);
            return await ReadStateAsync(connection);
        });
        WakeEveryWaitingClaim();
        return state;
    }

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
        WakeEveryWaitingClaim();
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

    private static async Task<QueueState> ReadStateAsync(DbConnection connection)
    {
        var (paused, pausedAt, pausedBy) = await connection.QuerySingleAsync<(long, long?, string?)>(
            "SELECT paused, paused_at, paused_by FROM queue_state WHERE id = 1");
        return new QueueState(paused == 1, pausedAt, pausedBy);
    }

    /// <summary>
    /// Every long-poll claim on this host tries again: after a resume as many may now get a job, after
    /// a drain the drained worker's must be answered. Rare, so waking all costs nothing worth saving;
    /// a claim that finds nothing simply waits again.
    /// </summary>
    private void WakeEveryWaitingClaim() => waiters.Wake(int.MaxValue);
}
