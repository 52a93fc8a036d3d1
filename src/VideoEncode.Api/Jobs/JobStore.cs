using System.Security.Cryptography;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database;
using VideoEncode.Api.Stats;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Every SQL statement about jobs. Changes run on the single writer (<see cref="SqliteWriter"/>)
/// and are acknowledged only once committed; reads use their own connections. Every step of a
/// claimed job that a worker takes (heartbeat, finish, fail, release) is guarded by the claim's
/// token, so a worker whose claim has lapsed can change nothing.
/// </summary>
public sealed class JobStore(QueueDatabase database, SqliteWriter writer, TimeProvider clock,
    IOptions<QueueOptions> options, ClaimSignal claimable)
{
    static JobStore()
    {
        // Columns are snake_case (file_name), properties PascalCase (FileName).
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    /// <summary>Every column a caller may see: not the claim token, which only the claimer learns.</summary>
    private const string Columns =
        "id, file_name, crf, preset, status, started, finished, created_at, error, log_tail, priority, attempts, " +
        "max_attempts, lease_expires_at, cancel_requested, worker, progress, speed, eta_seconds";

    /// <summary>What a worker reported about a run; cleared whenever a run starts or ends without finishing.</summary>
    private const string ClearRunReport = "progress = NULL, speed = NULL, eta_seconds = NULL";

    private const long MaxBackoffSeconds = 3600;

    private QueueOptions Settings => options.Value;

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public async Task<IReadOnlyList<Job>> CreateAsync(IReadOnlyList<NewJob> jobs)
    {
        var now = Now;
        var created = await writer.WriteAsync<IReadOnlyList<Job>>(connection =>
        {
            const string sql = $"""
                INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts)
                VALUES (@FileName, @Crf, @Preset, 'pending', @now, @Priority, @MaxAttempts)
                RETURNING {Columns}
                """;
            var rows = new List<Job>(jobs.Count);
            foreach (var job in jobs)
                rows.Add(connection.QueryFirstPrepared<Job>(sql, ("@FileName", job.FileName), ("@Crf", job.Crf), ("@Preset", job.Preset),
                    ("@Priority", job.Priority), ("@MaxAttempts", job.MaxAttempts), ("@now", now))!);
            return rows;
        });
        claimable.Pulse();
        return created;
    }

    /// <summary>
    /// Hands the next claimable job — highest priority, then oldest — to one caller, with a fresh
    /// claim token and a lease. A single UPDATE … RETURNING: the row updated is the row returned,
    /// so two claimers never receive the same job. The subquery walks the partial claim-order
    /// index, so it is O(log n) however many jobs are stored; INDEXED BY pins that plan, because
    /// without statistics SQLite may pick the (status, id) index and sort every pending job.
    /// </summary>
    public Task<Job?> ClaimAsync(string? worker, bool legacyClient)
    {
        var now = Now;
        var lease = legacyClient ? Settings.LegacyLeaseSeconds : Settings.LeaseSeconds;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        return writer.WriteAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                    attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = 0
                WHERE id = (SELECT id FROM jobs INDEXED BY jobs_claim_order
                            WHERE status = 'pending' AND available_at <= @now ORDER BY priority DESC, id LIMIT 1)
                RETURNING {Columns}, claim_token
                """, ("@now", now), ("@token", token), ("@lease", lease), ("@worker", worker));
            if (job is not null && worker is not null) SeenWorker(connection, worker, now, lease);
            return job;
        });
    }

    /// <summary>Notes that a named worker is alive (a claim or a heartbeat).</summary>
    private static void SeenWorker(SqliteConnection connection, string name, long now, long lease) =>
        connection.ExecutePrepared("""
            INSERT INTO workers (name, last_seen_at, lease_seconds) VALUES (@name, @now, @lease)
            ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds
            """, ("@name", name), ("@now", now), ("@lease", lease));

    /// <summary>Counts a finished or failed job to its worker.</summary>
    private static void CountForWorker(SqliteConnection connection, Job job)
    {
        if (job.Worker is null) return;
        connection.ExecutePrepared("""
            UPDATE workers SET jobs_finished = jobs_finished + (@status = 'finished'), jobs_failed = jobs_failed + (@status = 'failed')
            WHERE name = @name
            """, ("@name", job.Worker), ("@status", job.Status));
    }

    /// <summary>Renews the lease of the caller's claim and records its progress, speed and time left.</summary>
    public Task<JobChange> HeartbeatAsync(long id, Heartbeat report)
    {
        var now = Now;
        return writer.WriteAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET lease_expires_at = @now + @lease, progress = COALESCE(@progress, progress),
                    speed = COALESCE(@speed, speed), eta_seconds = COALESCE(@eta, eta_seconds)
                WHERE id = @id AND status = 'in_progress' AND claim_token = @token
                RETURNING {Columns}
                """, ("@id", id), ("@token", report.ClaimToken), ("@progress", report.Progress), ("@speed", report.Speed),
                ("@eta", report.EtaSeconds), ("@now", now), ("@lease", Settings.LeaseSeconds));
            if (job is null) return WhyNot(connection, id);
            if (job.Worker is not null) SeenWorker(connection, job.Worker, now, Settings.LeaseSeconds);
            return JobChange.Unchanged(job);
        });
    }

    /// <summary>
    /// Marks a running job finished. Without a token (the original service's clients) the finish is
    /// unfenced. Repeating a finish that landed changes nothing and reports the job again, so a
    /// worker that re-sends its result after a lost answer is not told off.
    /// </summary>
    public Task<JobChange> FinishAsync(long id, string? token)
    {
        var now = Now;
        return writer.WriteAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET status = 'finished', finished = @now, error = NULL, log_tail = NULL,
                    lease_expires_at = NULL, progress = 100, eta_seconds = 0
                WHERE id = @id AND status = 'in_progress' AND (@token IS NULL OR claim_token = @token)
                RETURNING {Columns}
                """, ("@id", id), ("@token", token), ("@now", now));
            if (job is null) return Repeated(connection, id, token, JobStatus.Finished);
            CountForWorker(connection, job);
            return JobChange.Changed(JobStatus.InProgress, job);
        });
    }

    /// <summary>
    /// Marks a running job failed with the worker's reason — or, when the failure is retryable and
    /// attempts remain, puts it back in the queue, claimable again after an exponential backoff.
    /// </summary>
    public Task<JobChange> FailAsync(long id, FailureReport report)
    {
        var now = Now;
        return writer.WriteAsync(connection =>
        {
            var running = connection.QuerySingleOrDefault<AttemptCount>("""
                SELECT attempts, max_attempts AS maxattempts FROM jobs
                WHERE id = @id AND status = 'in_progress' AND (@token IS NULL OR claim_token = @token)
                """, new { id, token = report.ClaimToken });
            if (running is null)
                return Repeated(connection, id, report.ClaimToken, JobStatus.Failed);

            var retry = report.Retryable && running.Attempts < running.MaxAttempts;
            var backoff = Math.Min(MaxBackoffSeconds, (long)Settings.RetryBackoffSeconds << (int)Math.Clamp(running.Attempts - 1, 0, 20));
            var error = report.Retryable && !retry
                ? $"{report.Error} (attempt {running.Attempts} of {running.MaxAttempts}; no attempts left)"
                : report.Error;
            var job = connection.QuerySingle<Job>($"""
                UPDATE jobs SET status = @status, error = @error, log_tail = @logTail, lease_expires_at = NULL,
                    claim_token = CASE WHEN @retry THEN NULL ELSE claim_token END,
                    started = CASE WHEN @retry THEN NULL ELSE started END,
                    finished = CASE WHEN @retry THEN NULL ELSE @now END,
                    available_at = CASE WHEN @retry THEN @now + @backoff ELSE available_at END
                WHERE id = @id
                RETURNING {Columns}
                """, new { id, now, retry, backoff, error, logTail = report.LogTail, status = retry ? JobStatus.Pending : JobStatus.Failed });
            if (retry) claimable.PulseAt(now + backoff);
            CountForWorker(connection, job);
            return JobChange.Changed(JobStatus.InProgress, job);
        });
    }

    /// <summary>Gives a claimed job back untouched (a worker shutting down): pending again, the attempt not counted.</summary>
    public Task<JobChange> ReleaseAsync(long id, string token)
    {
        return ChangeAndPulse(connection =>
        {
            var job = connection.QuerySingleOrDefault<Job>($"""
                UPDATE jobs SET status = 'pending', started = NULL, claim_token = NULL, lease_expires_at = NULL,
                    attempts = MAX(0, attempts - 1), {ClearRunReport}, worker = NULL
                WHERE id = @id AND status = 'in_progress' AND claim_token = @token
                RETURNING {Columns}
                """, new { id, token });
            return job is not null ? JobChange.Changed(JobStatus.InProgress, job) : WhyNot(connection, id);
        });
    }

    /// <summary>
    /// Cancels a job. A pending one is cancelled at once; a running one is marked, and ends
    /// cancelled when its worker acknowledges (by calling this with its token) or its lease lapses.
    /// </summary>
    public Task<JobChange> CancelAsync(long id, string? token)
    {
        var now = Now;
        return writer.WriteAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobChange.NotFound;
            if (token is not null)
            {
                if (current.Status != JobStatus.InProgress || current.Token != token) return WhyNot(connection, id);
                return JobChange.Changed(current.Status, EndAsCancelled(connection, id, now));
            }
            return current.Status switch
            {
                JobStatus.Pending => JobChange.Changed(current.Status, EndAsCancelled(connection, id, now)),
                JobStatus.InProgress => JobChange.Unchanged(connection.QuerySingle<Job>(
                    $"UPDATE jobs SET cancel_requested = 1 WHERE id = @id RETURNING {Columns}", new { id })),
                JobStatus.Cancelled => JobChange.Unchanged(Get(connection, id)!),
                _ => JobChange.WrongState(Get(connection, id)!),
            };
        });
    }

    /// <summary>Gives a failed or cancelled job a fresh start: pending, attempts counted from zero.</summary>
    public Task<JobChange> RetryAsync(long id) =>
        ChangeAndPulse(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobChange.NotFound;
            if (current.Status is not (JobStatus.Failed or JobStatus.Cancelled)) return JobChange.WrongState(Get(connection, id)!);
            return JobChange.Changed(current.Status, ResetRow(connection, id));
        });

    /// <summary>Puts a job in any state back in the queue as if it had never been claimed (the original's reset).</summary>
    public Task<JobChange> ResetAsync(long id) =>
        ChangeAndPulse(connection =>
        {
            var current = Current(connection, id);
            return current is null ? JobChange.NotFound : JobChange.Changed(current.Status, ResetRow(connection, id));
        });

    /// <summary>Deletes a job in any state; answers the status it had, or null when there was no such job.</summary>
    public Task<string?> DeleteAsync(long id) =>
        writer.WriteAsync(connection =>
            connection.QuerySingleOrDefault<string>("DELETE FROM jobs WHERE id = @id RETURNING status", new { id }));

    /// <summary>
    /// Ends every lease that has lapsed: the job goes back to pending, or — when its attempts are
    /// used up — to failed, or to cancelled when a cancel was waiting for its worker.
    /// </summary>
    public async Task<IReadOnlyList<Transition>> ExpireLeasesAsync()
    {
        var now = Now;
        var expired = await writer.WriteAsync<IReadOnlyList<Transition>>(connection => connection.Query<Job>($"""
            UPDATE jobs SET
                status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
                finished = CASE WHEN cancel_requested OR attempts >= max_attempts THEN @now END,
                started = CASE WHEN cancel_requested OR attempts >= max_attempts THEN started END,
                error = CASE WHEN cancel_requested THEN error
                             ELSE 'The lease expired: worker ' || COALESCE(worker, '(unnamed)') || ' stopped sending heartbeats (attempt '
                                  || attempts || ' of ' || max_attempts || ').' END,
                claim_token = NULL, lease_expires_at = NULL, {ClearRunReport}
            WHERE status = 'in_progress' AND lease_expires_at <= @now
            RETURNING {Columns}
            """, new { now }).Select(job => new Transition(JobStatus.InProgress, job)).ToList());
        if (expired.Any(change => change.Job.Status == JobStatus.Pending)) claimable.Pulse();
        return expired;
    }

    /// <summary>The earliest future moment a backed-off job becomes claimable, if any (to wake waiting claims after a restart).</summary>
    public async Task<long?> NextBackoffEndAsync()
    {
        await using var connection = database.OpenRead();
        return await connection.QuerySingleAsync<long?>(
            "SELECT MIN(available_at) FROM jobs WHERE status = 'pending' AND available_at > @now", new { now = Now });
    }

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = database.OpenRead();
        return Get(connection, id);
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

    /// <summary>The queue's figures for GET /api/stats, each from an index (no table scans).</summary>
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
        var running = (await connection.QueryAsync<Job>($"SELECT {Columns} FROM jobs INDEXED BY jobs_lease_expiry WHERE status = 'in_progress'"))
            .Where(job => job.Worker is not null).ToLookup(job => job.Worker!);
        var workers = await connection.QueryAsync<(string Name, long LastSeenAt, long LeaseSeconds, long JobsFinished, long JobsFailed)>(
            "SELECT name, last_seen_at, lease_seconds, jobs_finished, jobs_failed FROM workers ORDER BY last_seen_at DESC");
        return workers.Select(w => new WorkerInfo(w.Name, w.LastSeenAt, now - w.LastSeenAt > w.LeaseSeconds,
            running[w.Name].Select(job => new WorkerJob(job.Id, job.FileName, job.Progress, job.Speed, job.EtaSeconds)).ToList(),
            w.JobsFinished, w.JobsFailed)).ToList();
    }

    /// <summary>Newest first; with a status, an index range scan on (status, id), starting below before_id when given.</summary>
    public async Task<IReadOnlyList<Job>> ListAsync(JobListQuery query)
    {
        await using var connection = database.OpenRead();
        var filters = new List<string>(2);
        if (query.Status is not null) filters.Add("status = @Status");
        if (query.BeforeId is not null) filters.Add("id < @BeforeId");
        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);
        return (await connection.QueryAsync<Job>($"SELECT {Columns} FROM jobs {where} ORDER BY id DESC LIMIT @Limit OFFSET @Offset", query)).AsList();
    }

    private async Task<JobChange> ChangeAndPulse(Func<SqliteConnection, JobChange> change)
    {
        var result = await writer.WriteAsync(change);
        if (result.Job?.Status == JobStatus.Pending) claimable.Pulse();
        return result;
    }

    private static Job? Get(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<Job>($"SELECT {Columns} FROM jobs WHERE id = @id", new { id });

    private sealed record Row(string Status, string? Token);

    private sealed record AttemptCount(long Attempts, long MaxAttempts);

    private static Row? Current(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<Row>("SELECT status, claim_token AS token FROM jobs WHERE id = @id", new { id });

    /// <summary>A finish or fail that did not apply: a harmless repeat, a stale claim, or a job that is not running.</summary>
    private static JobChange Repeated(SqliteConnection connection, long id, string? token, string endStatus)
    {
        var current = Current(connection, id);
        if (current is null) return JobChange.NotFound;
        if (current.Status == endStatus && (token is null || current.Token == token)) return JobChange.Unchanged(Get(connection, id)!);
        return token is null ? JobChange.NotRunning : JobChange.StaleClaim(Get(connection, id)!);
    }

    /// <summary>Why a fenced step did not apply: no such job, or the token is not the job's current claim.</summary>
    private static JobChange WhyNot(SqliteConnection connection, long id) =>
        Get(connection, id) is { } job ? JobChange.StaleClaim(job) : JobChange.NotFound;

    private static Job EndAsCancelled(SqliteConnection connection, long id, long now) =>
        connection.QuerySingle<Job>($"""
            UPDATE jobs SET status = 'cancelled', finished = @now, cancel_requested = 0, lease_expires_at = NULL, {ClearRunReport}
            WHERE id = @id
            RETURNING {Columns}
            """, new { id, now });

    private static Job ResetRow(SqliteConnection connection, long id) =>
        connection.QuerySingle<Job>($"""
            UPDATE jobs SET status = 'pending', started = NULL, finished = NULL, error = NULL, log_tail = NULL,
                attempts = 0, claim_token = NULL, lease_expires_at = NULL, available_at = 0, cancel_requested = 0,
                worker = NULL, {ClearRunReport}
            WHERE id = @id
            RETURNING {Columns}
            """, new { id });
}
