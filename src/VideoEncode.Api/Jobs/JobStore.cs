using Dapper;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Every SQL statement about jobs. Changes run on the single writer (<see cref="SqliteWriter"/>)
/// and are acknowledged only once committed; reads use their own connections.
/// </summary>
public sealed class JobStore(QueueDatabase database, SqliteWriter writer, TimeProvider clock)
{
    static JobStore()
    {
        // Columns are snake_case (file_name), properties PascalCase (FileName).
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public Task<IReadOnlyList<Job>> CreateAsync(IReadOnlyList<NewJob> jobs)
    {
        var now = Now;
        return writer.WriteAsync<IReadOnlyList<Job>>(connection =>
        {
            const string sql = """
                INSERT INTO jobs (file_name, crf, preset, status, created_at)
                VALUES (@FileName, @Crf, @Preset, 'pending', @now)
                RETURNING *
                """;
            var created = new List<Job>(jobs.Count);
            foreach (var job in jobs)
                created.Add(connection.QuerySingle<Job>(sql, new { job.FileName, job.Crf, job.Preset, now }));
            return created;
        });
    }

    /// <summary>
    /// Hands the oldest pending job to one caller. A single UPDATE … RETURNING: the row that is
    /// updated is the row that is returned, so two claimers can never receive the same job.
    /// The subquery walks the (status, id) index, so it is O(log n) however many jobs are stored.
    /// </summary>
    public Task<Job?> ClaimAsync()
    {
        var now = Now;
        return writer.WriteAsync(connection => connection.QuerySingleOrDefault<Job>("""
            UPDATE jobs SET status = 'in_progress', started = @now
            WHERE id = (SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1)
            RETURNING *
            """, new { now }));
    }

    /// <summary>
    /// Marks a running job finished. Finishing a job that is already finished changes nothing and
    /// reports it again, so a worker that re-sends its result after a lost answer is not told off.
    /// </summary>
    public Task<Transition?> FinishAsync(long id) => EndRunAsync(id, JobStatus.Finished, error: null, logTail: null);

    /// <summary>Marks a running job failed with the worker's reason; repeating it is harmless, as for finish.</summary>
    public Task<Transition?> FailAsync(long id, FailureReport report) =>
        EndRunAsync(id, JobStatus.Failed, report.Error, report.LogTail);

    private Task<Transition?> EndRunAsync(long id, string to, string? error, string? logTail)
    {
        var now = Now;
        return writer.WriteAsync(connection =>
        {
            var ended = connection.QuerySingleOrDefault<Job>("""
                UPDATE jobs SET status = @to, finished = @now, error = @error, log_tail = @logTail
                WHERE id = @id AND status = 'in_progress'
                RETURNING *
                """, new { id, to, now, error, logTail });
            if (ended is not null)
                return new Transition(JobStatus.InProgress, ended);
            var current = connection.QuerySingleOrDefault<Job>("SELECT * FROM jobs WHERE id = @id", new { id });
            return current?.Status == to ? new Transition(to, current) : null;
        });
    }

    /// <summary>Puts a job back in the queue as if it had never been claimed.</summary>
    public Task<Transition?> ResetAsync(long id) =>
        writer.WriteAsync(connection =>
        {
            // Both statements run inside the writer's transaction, so nothing can change in between.
            var from = connection.QuerySingleOrDefault<string>("SELECT status FROM jobs WHERE id = @id", new { id });
            if (from is null) return null;
            var job = connection.QuerySingle<Job>("""
                UPDATE jobs SET status = 'pending', started = NULL, finished = NULL, error = NULL, log_tail = NULL
                WHERE id = @id
                RETURNING *
                """, new { id });
            return new Transition(from, job);
        });

    /// <summary>Deletes a job in any state; answers the status it had, or null when there was no such job.</summary>
    public Task<string?> DeleteAsync(long id) =>
        writer.WriteAsync(connection =>
            connection.QuerySingleOrDefault<string>("DELETE FROM jobs WHERE id = @id RETURNING status", new { id }));

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = database.OpenRead();
        return await connection.QuerySingleOrDefaultAsync<Job>("SELECT * FROM jobs WHERE id = @id", new { id });
    }

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

    /// <summary>Newest first; with a status, an index range scan on (status, id).</summary>
    public async Task<IReadOnlyList<Job>> ListAsync(JobListQuery query)
    {
        await using var connection = database.OpenRead();
        var sql = query.Status is null
            ? "SELECT * FROM jobs ORDER BY id DESC LIMIT @Limit OFFSET @Offset"
            : "SELECT * FROM jobs WHERE status = @Status ORDER BY id DESC LIMIT @Limit OFFSET @Offset";
        return (await connection.QueryAsync<Job>(sql, query)).AsList();
    }
}

/// <summary>A job after a change, and the status it had before (for the state-change log).</summary>
public sealed record Transition(string From, Job Job);
