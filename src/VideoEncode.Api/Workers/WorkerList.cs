using Dapper;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Workers;

/// <summary>
/// The workers list behind GET /api/workers, read from the workers table (each worker's last sighting,
/// lease, counts, drain, encoders and version) and the running jobs, each answered from an index. Each store
/// spells the running jobs' statement its own way (<see cref="SqliteWorkerList"/>, <see cref="PostgresWorkerList"/>).
/// Every host on a shared store answers the same list, but for the sightings each holds in memory.
/// </summary>
public abstract class WorkerList(IStoreSql store, TimeProvider clock)
{
    /// <summary>id, file_name, worker, progress, speed, eta_seconds of every running job.</summary>
    protected abstract string RunningJobsSql { get; }

    /// <summary>
    /// Workers seen, most recently seen first: their counts, their running jobs, and whether they have gone
    /// silent past their lease. <paramref name="seenInMemory"/>: sightings by heartbeats this host answered
    /// from memory and has not written yet (<see cref="Jobs.LiveClaims.WorkersSeen"/>), counted as the
    /// database's own.
    /// </summary>
    public Task<IReadOnlyList<WorkerInfo>> ListAsync(IReadOnlyDictionary<string, long>? seenInMemory = null) =>
        store.ReadAsync<IReadOnlyList<WorkerInfo>>(async connection =>
        {
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            var running = (await connection.QueryAsync<(long Id, string FileName, string? Worker, double? Progress, double? Speed, long? EtaSeconds)>(RunningJobsSql))
                .Where(job => job.Worker is not null).ToLookup(job => job.Worker!);
            var workers = (await connection.QueryAsync<(string Name, long LastSeenAt, long LeaseSeconds, long JobsFinished, long JobsFailed, long Draining, string? Encoders, string? Version)>(
                    "SELECT name, last_seen_at, lease_seconds, jobs_finished, jobs_failed, draining, encoders, version FROM workers ORDER BY last_seen_at DESC"))
                .Select(w => w with { LastSeenAt = Math.Max(w.LastSeenAt, seenInMemory?.GetValueOrDefault(w.Name) ?? 0) })
                .OrderByDescending(w => w.LastSeenAt); // stable: the database's order where the memory changed nothing
            // last_seen_at 0: drained before its first claim (WorkerDrains), so never seen and not lost.
            return workers.Select(w => new WorkerInfo(w.Name, w.LastSeenAt == 0 ? null : w.LastSeenAt, w.LastSeenAt != 0 && now - w.LastSeenAt > w.LeaseSeconds,
                running[w.Name].Select(job => new WorkerJob(job.Id, job.FileName, job.Progress, job.Speed, job.EtaSeconds)).ToList(),
                w.JobsFinished, w.JobsFailed, w.Draining == 1, w.Encoders?.Split(','), w.Version,
                VersionDiffers: w.Version is not null && w.Version != Contracts.Versions.Product)).ToList();
        });
}

/// <summary>The workers list on SQLite: INDEXED BY pins the partial index of running jobs, which SQLite without statistics might pass over.</summary>
public sealed class SqliteWorkerList(IStoreSql store, TimeProvider clock) : WorkerList(store, clock)
{
    protected override string RunningJobsSql =>
        "SELECT id, file_name, worker, progress, speed, eta_seconds FROM jobs INDEXED BY jobs_lease_expiry WHERE status = 'in_progress'";
}

/// <summary>The workers list on PostgreSQL.</summary>
public sealed class PostgresWorkerList(IStoreSql store, TimeProvider clock) : WorkerList(store, clock)
{
    protected override string RunningJobsSql =>
        "SELECT id, file_name, worker, progress, speed, eta_seconds FROM jobs WHERE status = 'in_progress'";
}
