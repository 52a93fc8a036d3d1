using System.Data.Common;
using Dapper;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Stats;

/// <summary>
/// The read-only queries behind /api/stats and the jobs gauge of /metrics, each
/// answered from an index. The statements both stores run alike are here; each store supplies its
/// connections and the statements it spells its own way (<see cref="SqliteStatsStore"/>,
/// <see cref="PostgresStatsStore"/>). Every host on a shared store answers the same figures.
/// </summary>
public abstract class StatsStore(TimeProvider clock)
{
    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>A connection for one query; dispose it to give it back.</summary>
    protected abstract Task<DbConnection> OpenAsync();

    /// <summary>Count, average wait and average encode time of the jobs finished since @since.</summary>
    protected abstract string LastHourSql { get; }

    /// <summary>
    /// Jobs finished and failed per minute since @since, as rows of (minute, finished, failed): minute
    /// is the unix minute (finished / 60), answered from the partial index on finished.
    /// </summary>
    protected abstract string PerMinuteSql { get; }

    /// <summary>The last hour's jobs finished and failed per minute, oldest minute first, every minute present.</summary>
    public async Task<Throughput> ThroughputAsync()
    {
        var thisMinute = Now / 60;
        var first = thisMinute - Throughput.Minutes + 1;
        await using var connection = await OpenAsync();
        var counted = (await connection.QueryAsync<(long Minute, long Finished, long Failed)>(PerMinuteSql, new { since = first * 60 }))
            .ToDictionary(row => row.Minute);
        return new Throughput(Enumerable.Range(0, Throughput.Minutes).Select(i => first + i)
            .Select(minute => counted.TryGetValue(minute, out var row) ? new MinuteCount(minute * 60, row.Finished, row.Failed) : new MinuteCount(minute * 60, 0, 0))
            .ToList());
    }

    /// <summary>How many jobs are in each status (every status present, zeros included).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountByStatusAsync()
    {
        await using var connection = await OpenAsync();
        var counts = JobStatus.All.ToDictionary(status => status, _ => 0L);
        foreach (var (status, count) in await connection.QueryAsync<(string, long)>("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
            counts[status] = count;
        // Tasks are counted with their jobs, not as jobs: taken off through their own small index, so the count of
        // every job stays the index-only scan it was.
        foreach (var (status, count) in await connection.QueryAsync<(string, long)>("SELECT status, COUNT(*) FROM jobs WHERE parent_id IS NOT NULL GROUP BY status"))
            counts[status] -= count;
        return counts;
    }

    /// <summary>The queue's figures: counts, the oldest pending job's age, and the last hour's finishes with their wait and encode times.</summary>
    public async Task<QueueStats> StatsAsync()
    {
        var counts = await CountByStatusAsync();
        var now = Now;
        await using var connection = await OpenAsync();
        var oldestPending = await connection.QuerySingleOrDefaultAsync<long?>(
            "SELECT created_at FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1");
        var lastHour = await connection.QuerySingleAsync<(long Count, double? Wait, double? Encode)>(LastHourSql, new { since = now - 3600 });
        return new QueueStats(counts, counts.Values.Sum(),
            oldestPending is { } created ? Math.Max(0, now - created) : null,
            lastHour.Count, lastHour.Wait, lastHour.Encode);
    }
}
