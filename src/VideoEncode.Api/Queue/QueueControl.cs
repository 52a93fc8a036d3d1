using System.Data.Common;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Queue;

/// <summary>
/// Pausing the queue. The pause is queue_state's one row in the store, so every host sharing a
/// PostgreSQL store agrees and a restart keeps it; the claim statements read it
/// (<see cref="Jobs.SharedJobSql.ClaimAllowed"/>), so a claim racing a pause is judged by what was
/// committed. Each change is written with its audit entry, and a repeat of what already holds changes
/// nothing and records nothing. (Draining one worker is <see cref="Workers.WorkerDrains"/>.)
///
/// Waiting claims on this host are woken when claims may go through again (resume); on other hosts of
/// a shared store they look again within a second anyway (<see cref="ClaimWaiters.RecheckAfter"/>).
/// </summary>
public sealed class QueueControl(IStoreSql store, TimeProvider clock, ClaimWaiters waiters)
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

    private static async Task<QueueState> ReadStateAsync(DbConnection connection)
    {
        var (paused, pausedAt, pausedBy) = await connection.QuerySingleAsync<(long, long?, string?)>(
            "SELECT paused, paused_at, paused_by FROM queue_state WHERE id = 1");
        return new QueueState(paused == 1, pausedAt, pausedBy);
    }

    /// <summary>
    /// Every long-poll claim on this host tries again: after a resume as many may now get a job. Rare, so
    /// waking all costs nothing worth saving; a claim that finds nothing simply waits again.
    /// </summary>
    private void WakeEveryWaitingClaim() => waiters.Wake(int.MaxValue);
}
