using System.Data.Common;
using Dapper;

namespace VideoEncode.Api.Quotas;

/// <summary>
/// A key's quota and usage in the store, in statements both stores run word for word. The enqueue
/// charges a key in its own transaction (<see cref="ChargeAsync"/>): the check and the count commit with
/// the jobs or not at all. The finish of a job counts its input's duration (<see cref="CountEncodedAsync"/>).
/// </summary>
public static class QuotaBook
{
    private sealed class Limits
    {
        public long? JobsPerDay { get; init; }
        public long? EncodeSecondsPerDay { get; init; }
        public long? MaxPending { get; init; }
        public Quota ToQuota() => new(JobsPerDay, EncodeSecondsPerDay, MaxPending);
    }

    private sealed class Used
    {
        public long Jobs { get; init; }
        public double EncodeSeconds { get; init; }
    }

    private const string ReadLimits = "SELECT jobs_per_day, encode_seconds_per_day, max_pending FROM key_quotas WHERE key_name = @key";

    private const string ReadUsed = "SELECT jobs, encode_seconds FROM key_usage WHERE key_name = @key AND day = @day";

    /// <summary>A key's pending jobs (a job made of tasks once, never its tasks), from the partial index jobs_pending_by_key.</summary>
    private const string CountPending = "SELECT COUNT(*) FROM jobs WHERE created_by = @key AND status = 'pending' AND parent_id IS NULL";

    /// <summary>
    /// In an enqueue's write, before its jobs are inserted: whether <paramref name="adding"/> jobs fit the key's quota; if they do,
    /// they are counted to its day. On PostgreSQL the key's quota row is locked first (<paramref name="lockRows"/>: FOR UPDATE), so
    /// two enqueues of one key take turns and the second reads what the first committed (READ COMMITTED reads afresh per
    /// statement); SQLite's single writer already runs them one at a time. A key without a quota is counted, never refused.
    /// </summary>
    public static async Task<QuotaRefusal?> ChargeAsync(DbConnection connection, string key, int adding, long now, int resetHour, string lockRows)
    {
        var (day, _) = QuotaRules.DayOf(now, resetHour);
        if ((await connection.QuerySingleOrDefaultAsync<Limits>($"{ReadLimits} {lockRows}", new { key }))?.ToQuota() is { IsEmpty: false } quota)
        {
            var used = await connection.QuerySingleOrDefaultAsync<Used>(ReadUsed, new { key, day }) ?? new Used();
            var pending = quota.MaxPending is null ? 0 : await connection.ExecuteScalarAsync<long>(CountPending, new { key });
            if (QuotaRules.Judge(key, quota, used.Jobs, used.EncodeSeconds, pending, adding, now, resetHour) is { } refusal) return refusal;
        }
        await connection.ExecuteAsync("""
            INSERT INTO key_usage (key_name, day, jobs, encode_seconds) VALUES (@key, @day, @adding, 0)
            ON CONFLICT (key_name, day) DO UPDATE SET jobs = key_usage.jobs + excluded.jobs
            """, new { key, day, adding = (long)adding });
        return null;
    }

    /// <summary>
    /// In the write that finished them: counts the input durations of the jobs just finished to the keys that enqueued them, in the
    /// day they finished. A job's duration is what its worker reported (input_seconds), and a job made of tasks takes its tasks'
    /// (the longest: every task reads the one input), so it counts once however many outputs it has. <paramref name="inIds"/> is
    /// the store's condition on a list of ids bound as @ids.
    /// </summary>
    public static Task CountEncodedAsync(DbConnection connection, string inIds, object ids, long now, int resetHour) =>
        connection.ExecuteAsync($"""
            INSERT INTO key_usage (key_name, day, jobs, encode_seconds)
            SELECT created_by, @day, 0, SUM(seconds) FROM (
                SELECT created_by, COALESCE(input_seconds, (SELECT MAX(task.input_seconds) FROM jobs AS task WHERE task.parent_id = jobs.id), 0) AS seconds
                FROM jobs WHERE {inIds} AND created_by IS NOT NULL) AS finished
            GROUP BY created_by HAVING SUM(seconds) > 0
            ON CONFLICT (key_name, day) DO UPDATE SET encode_seconds = key_usage.encode_seconds + excluded.encode_seconds
            """, new { ids, day = QuotaRules.DayOf(now, resetHour).Start });

    /// <summary>A key's quota (null when it has none) and its usage today.</summary>
    public static async Task<KeyQuota> ReadAsync(DbConnection connection, string key, long now, int resetHour)
    {
        var (day, end) = QuotaRules.DayOf(now, resetHour);
        var quota = (await connection.QuerySingleOrDefaultAsync<Limits>(ReadLimits, new { key }))?.ToQuota();
        var used = await connection.QuerySingleOrDefaultAsync<Used>(ReadUsed, new { key, day }) ?? new Used();
        var pending = await connection.ExecuteScalarAsync<long>(CountPending, new { key });
        return new KeyQuota(key, quota is { IsEmpty: false } ? quota : null, new QuotaUsage(day, end, used.Jobs, used.EncodeSeconds, pending));
    }

    /// <summary>Sets a key's quota (an empty one removes it).</summary>
    public static Task SetAsync(DbConnection connection, string key, Quota quota, long now, string actor) => quota.IsEmpty
        ? connection.ExecuteAsync("DELETE FROM key_quotas WHERE key_name = @key", new { key })
        : connection.ExecuteAsync("""
            INSERT INTO key_quotas (key_name, jobs_per_day, encode_seconds_per_day, max_pending, updated_at, updated_by)
            VALUES (@key, @jobs, @seconds, @pending, @now, @actor)
            ON CONFLICT (key_name) DO UPDATE SET jobs_per_day = excluded.jobs_per_day, encode_seconds_per_day = excluded.encode_seconds_per_day,
                max_pending = excluded.max_pending, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, new { key, jobs = quota.JobsPerDay, seconds = quota.EncodeSecondsPerDay, pending = quota.MaxPending, now, actor });

    /// <summary>A revoked key's quota and usage go with it.</summary>
    public static async Task ForgetAsync(DbConnection connection, string key)
    {
        await connection.ExecuteAsync("DELETE FROM key_quotas WHERE key_name = @key", new { key });
        await connection.ExecuteAsync("DELETE FROM key_usage WHERE key_name = @key", new { key });
    }
}
