using Dapper;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Stats;

/// <summary>The read-only queries behind /api/stats, /api/workers and the jobs gauge of /metrics, each answered from an index.</summary>
public sealed class StatsStore(QueueDatabase database, TimeProvider clock)
{
    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>How many jobs are in each status (every status present, zeros included).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountByStatusAsync()
    {
        await using var connection = database.OpenRead();
        var counts = JobStatus.All.ToDictionary(status => status, _ => 0L);
        // Answered from the (status, id) index alone, without touching the table.
        foreach (var (status, count) in await connection.QueryAsync<(string, long)>("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
            counts[status] = count;
        return counts;
    }

    /// <summary>The queue's figures: counts, the oldest pending job's age, and the last hour's finishes with their wait and encode times.</summary>
    public async Task<QueueStats> StatsAsync()
    {
        var counts = await CountByStatusAsync();
        var now = Now;
        await using var connection = database.OpenRead();
        var oldestPending = await connection.QuerySingleOrDefaultAsync<long?>(
            "SELECT created_at FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1");
        var lastHour = await connection.QuerySingleAsync<(long Count, double? Wait, double? Encode)>("""
            SELECT COUNT(*), AVG(started - created_at), AVG(finished - started) FROM jobs INDEXED BY jobs_finished_at
            WHERE finished >= @since AND status = 'finished'
            """, new { since = now - 3600 });
        return new QueueStats(counts, counts.Values.Sum(),
            oldestPending is { } created ? Math.Max(0, now - created) : null,
            lastHour.Count, lastHour.Wait, lastHour.Encode);
    }

    /// <summary>Workers seen, busiest first: their counts, their running jobs, and whether they have gone silent past their lease.</summary>
    public async Task<IReadOnlyList<WorkerInfo>> WorkersAsync()
    {
        var now = Now;
        await using var connection = database.OpenRead();
        var running = (await connection.QueryAsync<(long Id, string FileName, string? Worker, double? Progress, double? Speed, long? EtaSeconds)>(
                "SELECT id, file_name, worker, progress, speed, eta_seconds FROM jobs INDEXED BY jobs_lease_expiry WHERE status = 'in_progress'"))
            .Where(job => job.Worker is not null).ToLookup(job => job.Worker!);
        var workers = await connection.QueryAsync<(string Name, long LastSeenAt, long LeaseSeconds, long JobsFinished, long JobsFailed)>(
            "SELECT name, last_seen_at, lease_seconds, jobs_finished, jobs_failed FROM workers ORDER BY last_seen_at DESC");
        return workers.Select(w => new WorkerInfo(w.Name, w.LastSeenAt, now - w.LastSeenAt > w.LeaseSeconds,
            running[w.Name].Select(job => new WorkerJob(job.Id, job.FileName, job.Progress, job.Speed, job.EtaSeconds)).ToList(),
            w.JobsFinished, w.JobsFailed)).ToList();
    }
}
