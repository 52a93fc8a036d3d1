using System.Data.Common;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Schedules;

namespace VideoEncode.Api.Queue;

/// <summary>
/// Pausing the queue. The pause is queue_state's one row in the store, so every host sharing a
/// PostgreSQL store agrees and a restart keeps it; the claim statements read it
/// (<see cref="Jobs.SharedJobSql.ClaimAllowed"/>), so a claim racing a pause is judged by what was
/// committed. Each change is written with its audit entry, and a repeat of what already holds changes
/// nothing and records nothing. (Draining one worker is <see cref="Workers.WorkerDrains"/>.)
///
/// A timed pause ("minutes") keeps its end in the row (resume_at): the claims go through from then on by
/// themselves, on every host and after a restart, and the state reads as not paused; the upkeep
/// (<see cref="Upkeep.TimedPauseEnd"/>) then clears the row, records the resume and wakes waiting claims.
///
/// Waiting claims on this host are woken when claims may go through again (resume); on other hosts of
/// a shared store they look again within a second anyway (<see cref="ClaimWaiters.RecheckAfter"/>).
/// </summary>
public sealed class QueueControl(IStoreSql store, TimeProvider clock, ClaimWaiters waiters)
{
    /// <summary>The longest timed pause: a year. Longer is a pause without an end.</summary>
    public const int MaxPauseMinutes = 365 * 24 * 60;

    /// <summary>Who the audit trail names for a timed pause that ended by itself.</summary>
    public const string TimerActor = "timer";

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public Task<QueueState> StateAsync() => store.ReadAsync(connection => ReadStateAsync(connection, clock.GetUtcNow()));

    /// <summary>Pauses the queue, for <paramref name="minutes"/> when given (a pause already on takes the new end, or none).</summary>
    public async Task<QueueState> PauseAsync(string by, int? minutes = null)
    {
        var at = clock.GetUtcNow();
        var now = at.ToUnixTimeSeconds();
        long? resumeAt = minutes is { } length ? now + length * 60L : null;
        return await store.WriteAsync(async connection =>
        {
            // Not paused (or a timed pause past its end): paused from now. Paused: only its end changes, if it does.
            if (await connection.ExecuteAsync(
                    $"UPDATE queue_state SET paused = 1, paused_at = @now, paused_by = @by, resume_at = @resumeat WHERE id = 1 AND NOT ({Paused})",
                    new { now, by, resumeat = resumeAt }) == 1
                || await connection.ExecuteAsync(
                    "UPDATE queue_state SET resume_at = @resumeat WHERE id = 1 AND COALESCE(resume_at, -1) <> COALESCE(CAST(@resumeat AS BIGINT), -1)",
                    new { resumeat = resumeAt }) == 1)
                await AuditTrail.RecordAsync(connection, now, by, "queue.pause", target: null, minutes is { } timed ? $"for {timed} minutes" : null);
            return await ReadStateAsync(connection, at);
        });
    }

    public async Task<QueueState> ResumeAsync(string by)
    {
        var at = clock.GetUtcNow();
        var state = await store.WriteAsync(async connection =>
        {
            if (await connection.ExecuteAsync("UPDATE queue_state SET paused = 0, paused_at = NULL, paused_by = NULL, resume_at = NULL WHERE id = 1 AND paused = 1") == 1)
                await AuditTrail.RecordAsync(connection, at.ToUnixTimeSeconds(), by, "queue.resume", target: null);
            return await ReadStateAsync(connection, at);
        });
        WakeEveryWaitingClaim();
        return state;
    }

    /// <summary>
    /// Clears a timed pause whose end has come (the claims already go through), recording the resume under <see cref="TimerActor"/>,
    /// and wakes the waiting claims. A read first, so the upkeep's round costs a write only when one ended; on a shared store one
    /// host clears it and records it.
    /// </summary>
    public async Task EndTimedPauseAsync()
    {
        var now = Now;
        if (await store.ReadAsync(connection => connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM queue_state WHERE paused = 1 AND resume_at <= @now", new { now })) == 0)
            return;
        var ended = await store.WriteAsync(async connection =>
        {
            if (await connection.ExecuteAsync(
                    "UPDATE queue_state SET paused = 0, paused_at = NULL, paused_by = NULL, resume_at = NULL WHERE id = 1 AND paused = 1 AND resume_at <= @now",
                    new { now }) == 0)
                return false;
            await AuditTrail.RecordAsync(connection, now, TimerActor, "queue.resume", target: null, "the timed pause ended");
            return true;
        });
        if (ended) WakeEveryWaitingClaim();
    }

    /// <summary>A pause in force: set, and not a timed one past its end (as the claims judge it, <see cref="SharedJobSql.ClaimAllowed"/>).</summary>
    private const string Paused = "paused = 1 AND (resume_at IS NULL OR resume_at > @now)";

    private static async Task<QueueState> ReadStateAsync(DbConnection connection, DateTimeOffset at)
    {
        var now = at.ToUnixTimeSeconds();
        var (paused, pausedAt, pausedBy, resumeAt) = await connection.QuerySingleAsync<(long, long?, string?, long?)>(
            "SELECT paused, paused_at, paused_by, resume_at FROM queue_state WHERE id = 1");
        var schedule = await ScheduleBook.ReadAsync(connection, ScheduleBook.Queue, at);
        return paused == 1 && (resumeAt is null || resumeAt > now)
            ? new QueueState(true, pausedAt, pausedBy, resumeAt, schedule)
            : new QueueState(false, null, null, null, schedule);
    }

    /// <summary>
    /// Every long-poll claim on this host tries again: after a resume as many may now get a job. Rare, so
    /// waking all costs nothing worth saving; a claim that finds nothing simply waits again.
    /// </summary>
    private void WakeEveryWaitingClaim() => waiters.Wake(int.MaxValue);
}
