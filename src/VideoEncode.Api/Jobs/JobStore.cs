using System.Security.Cryptography;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Every SQL statement about jobs. Changes run on the single writer (<see cref="SqliteWriter"/>)
/// and are acknowledged only once committed; every write returns the changes it made, which go to
/// <see cref="JobChangeSink"/> right after the commit. Reads use their own connections. Every step
/// of a claimed job that a worker takes (heartbeat, finish, fail, release) is guarded by the
/// claim's token, so a worker whose claim has lapsed can change nothing. A worker's own steps keep
/// the token on the row, so repeating one that landed is recognised and answered with the job.
/// </summary>
public sealed class JobStore(QueueDatabase database, SqliteWriter writer, TimeProvider clock,
    IOptions<QueueOptions> options, JobChangeSink sink)
{
    static JobStore()
    {
        // Columns are snake_case (file_name), properties PascalCase (FileName).
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    /// <summary>Every column a caller may see: not the claim token, which only the claimer learns.</summary>
    private const string Columns =
        "id, file_name, crf, preset, status, started, finished, created_at, output_name, overwrite, error, log_tail, priority, " +
        "attempts, max_attempts, lease_expires_at, cancel_requested, worker, progress, speed, eta_seconds";

    /// <summary>What a worker reported about a run; cleared whenever a run starts or ends without finishing.</summary>
    private const string ClearRunReport = "progress = NULL, speed = NULL, eta_seconds = NULL";

    /// <summary>A job holds its output_name against others while it is live.</summary>
    private const string Live = "status IN ('pending', 'in_progress')";

    private const long MaxBackoffSeconds = 3600;

    /// <summary>How long an Idempotency-Key is remembered.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private QueueOptions Settings => options.Value;

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Stores new jobs, all or none. Each gets an output_name: its own (refused when another live
    /// job, or another job of the request, has it), or the input's name with .mp4, numbered
    /// "a (2).mp4", "a (3).mp4" … past the names live jobs hold. With an idempotency key seen in
    /// the last 24 hours, nothing is stored and the first request's jobs are answered.
    /// </summary>
    public async Task<Enqueued> CreateAsync(IReadOnlyList<NewJob> jobs, IdempotencyKey? key, CancellationToken cancel)
    {
        var now = Now;
        return await CommitAsync(connection =>
        {
            if (key is not null && Remembered(connection, key.Key, now) is { } seen)
                return seen.RequestHash == key.RequestHash
                    ? Enqueued.Replayed(connection.Query<Job>($"SELECT {Columns} FROM jobs WHERE id IN @ids ORDER BY id",
                        new { ids = seen.JobIds.Split(',').Select(long.Parse) }).AsList())
                    : Enqueued.KeyReused;

            var requested = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < jobs.Count; i++)
                if (jobs[i].OutputName is { } name && (!requested.Add(name) || LiveHolderOf(connection, name) is not null))
                    return Enqueued.OutputTaken(i, name);

            const string insert = $"""
                INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts, output_name, overwrite)
                VALUES (@FileName, @Crf, @Preset, 'pending', @now, @Priority, @MaxAttempts, @OutputName, @Overwrite)
                RETURNING {Columns}
                """;
            var nextNumber = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            var created = new List<Job>(jobs.Count);
            foreach (var job in jobs)
            {
                var output = job.OutputName ?? FreeOutputName(connection, FileNames.DefaultOutputName(job.FileName), requested, nextNumber);
                created.Add(connection.QueryFirstPrepared<Job>(insert, ("@FileName", job.FileName), ("@Crf", job.Crf), ("@Preset", job.Preset),
                    ("@Priority", job.Priority), ("@MaxAttempts", job.MaxAttempts), ("@OutputName", output), ("@Overwrite", job.Overwrite),
                    ("@now", now))!);
            }
            if (key is not null)
                connection.Execute("""
                    INSERT INTO idempotency_keys (key, request_hash, job_ids, created_at) VALUES (@Key, @RequestHash, @ids, @now)
                    ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, job_ids = excluded.job_ids, created_at = excluded.created_at
                    """, new { key.Key, key.RequestHash, ids = string.Join(',', created.Select(job => job.Id)), now });
            return Enqueued.Created(created);
        }, cancel);
    }

    private sealed record RememberedKey(string RequestHash, string JobIds);

    private static RememberedKey? Remembered(SqliteConnection connection, string key, long now) =>
        connection.QuerySingleOrDefault<RememberedKey>(
            "SELECT request_hash AS requesthash, job_ids AS jobids FROM idempotency_keys WHERE key = @key AND created_at > @since",
            new { key, since = now - (long)IdempotencyWindow.TotalSeconds });

    /// <summary>The live job that writes <paramref name="outputName"/>, if any (letter case ignored).</summary>
    private static long? LiveHolderOf(SqliteConnection connection, string outputName) =>
        connection.QueryFirstPrepared<long?>($"SELECT id FROM jobs WHERE output_name = @name COLLATE NOCASE AND {Live} LIMIT 1",
            ("@name", outputName));

    /// <summary>The first of "a.mp4", "a (2).mp4", "a (3).mp4" … that no live job and no name asked for in this request holds.</summary>
    private static string FreeOutputName(SqliteConnection connection, string wanted, HashSet<string> requested, Dictionary<string, int> nextNumber)
    {
        // Remembering where the last search ended keeps a request of many same-named inputs linear.
        for (var n = nextNumber.GetValueOrDefault(wanted, 1); ; n++)
        {
            var candidate = FileNames.Numbered(wanted, n);
            if (requested.Contains(candidate) || LiveHolderOf(connection, candidate) is not null) continue;
            nextNumber[wanted] = n + 1;
            return candidate;
        }
    }

    /// <summary>
    /// Hands the next claimable job — highest priority, then oldest — to one caller, with a fresh
    /// claim token and a lease. A single UPDATE … RETURNING: the row updated is the row returned,
    /// so two claimers never receive the same job. The subquery walks the partial claim-order
    /// index, so it is O(log n) however many jobs are stored; INDEXED BY pins that plan, because
    /// without statistics SQLite may pick the (status, id) index and sort every pending job.
    /// </summary>
    public Task<JobStep> ClaimAsync(string? worker, bool legacyClient, CancellationToken cancel)
    {
        var now = Now;
        var lease = legacyClient ? Settings.LegacyLeaseSeconds : Settings.LeaseSeconds;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                    attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = 0, claim_step = NULL
                WHERE id = (SELECT id FROM jobs INDEXED BY jobs_claim_order
                            WHERE status = 'pending' AND available_at <= @now ORDER BY priority DESC, id LIMIT 1)
                RETURNING {Columns}, claim_token
                """, ("@now", now), ("@token", token), ("@lease", lease), ("@worker", worker));
            if (job is null) return JobStep.NotFound;
            if (worker is not null) SeenWorker(connection, worker, now, lease);
            return JobStep.Changed(JobStatus.Pending, job, legacyClient ? ChangeCause.LegacyClaim : ChangeCause.Claim);
        }, cancel);
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
    public Task<JobStep> HeartbeatAsync(long id, Heartbeat report, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET lease_expires_at = @now + @lease, progress = COALESCE(@progress, progress),
                    speed = COALESCE(@speed, speed), eta_seconds = COALESCE(@eta, eta_seconds)
                WHERE id = @id AND status = 'in_progress' AND claim_token = @token
                RETURNING {Columns}
                """, ("@id", id), ("@token", report.ClaimToken), ("@progress", report.Progress), ("@speed", report.Speed),
                ("@eta", report.EtaSeconds), ("@now", now), ("@lease", Settings.LeaseSeconds));
            if (job is null) return Repeated(connection, id, report.ClaimToken, step: null);
            if (job.Worker is not null) SeenWorker(connection, job.Worker, now, Settings.LeaseSeconds);
            return JobStep.Done(job, JobChange.Same(job, ChangeCause.Heartbeat));
        }, cancel);
    }

    /// <summary>
    /// Marks a running job finished (a cancel that was still waiting for the worker is dropped: the
    /// work is done). Without a token (the original service's clients) the finish is unfenced.
    /// </summary>
    public Task<JobStep> FinishAsync(long id, string? token, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET status = 'finished', finished = @now, error = NULL, log_tail = NULL, cancel_requested = 0,
                    lease_expires_at = NULL, progress = 100, eta_seconds = 0, claim_step = 'finish'
                WHERE id = @id AND status = 'in_progress' AND (@token IS NULL OR claim_token = @token)
                RETURNING {Columns}
                """, ("@id", id), ("@token", token), ("@now", now));
            if (job is null) return Repeated(connection, id, token, Steps.Finish);
            CountForWorker(connection, job);
            return JobStep.Changed(JobStatus.InProgress, job, ChangeCause.Finish);
        }, cancel);
    }

    /// <summary>
    /// Marks a running job failed with the worker's reason — or, when the failure is retryable and
    /// attempts remain, puts it back in the queue, claimable again after an exponential backoff.
    /// A cancel waiting for the worker wins over a retry: the job ends cancelled.
    /// </summary>
    public Task<JobStep> FailAsync(long id, FailureReport report, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            // Read inside the write: the backoff must start when the failure is recorded, not when it was queued.
            var now = Now;
            var step = report.Retryable ? Steps.RetryableFail : Steps.Fail;
            var current = Current(connection, id);
            if (current is not { Status: JobStatus.InProgress } || current.Token != report.ClaimToken)
                return Repeated(connection, id, report.ClaimToken, step);
            if (report.Retryable && current.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, EndAsCancelled(connection, id, now, step), ChangeCause.Cancel);

            var retry = report.Retryable && current.Attempts < current.MaxAttempts;
            var backoff = Math.Min(MaxBackoffSeconds, (long)Settings.RetryBackoffSeconds << (int)Math.Clamp(current.Attempts - 1, 0, 20));
            var error = report.Retryable && !retry
                ? $"{report.Error} (attempt {current.Attempts} of {current.MaxAttempts}; no attempts left)"
                : report.Error;
            var job = connection.QuerySingle<Job>($"""
                UPDATE jobs SET status = @status, error = @error, log_tail = @logTail, lease_expires_at = NULL, claim_step = @step,
                    started = CASE WHEN @retry THEN NULL ELSE started END,
                    finished = CASE WHEN @retry THEN NULL ELSE @now END,
                    available_at = CASE WHEN @retry THEN @now + @backoff ELSE available_at END
                WHERE id = @id
                RETURNING {Columns}
                """, new { id, now, retry, backoff, error, logTail = report.LogTail, step, status = retry ? JobStatus.Pending : JobStatus.Failed });
            CountForWorker(connection, job);
            return JobStep.Changed(JobStatus.InProgress, job, retry ? ChangeCause.RetryableFail : ChangeCause.Fail);
        }, cancel);

    /// <summary>
    /// Gives a claimed job back untouched (a worker shutting down): pending again, the attempt not
    /// counted — or cancelled, when a cancel was waiting for the worker.
    /// </summary>
    public Task<JobStep> ReleaseAsync(long id, string token, CancellationToken cancel) =>
        GiveBackAsync(id, token, ChangeCause.Release, cancel);

    /// <summary>
    /// A claim whose answer could not be delivered (the long-poll client went away): the job goes
    /// back as if never claimed, so it does not wait out a lease nobody is renewing.
    /// </summary>
    public Task<JobStep> GiveBackUndeliveredClaimAsync(long id, string token) =>
        GiveBackAsync(id, token, ChangeCause.AbandonedClaim, CancellationToken.None);

    private Task<JobStep> GiveBackAsync(long id, string token, ChangeCause cause, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is not { Status: JobStatus.InProgress } || current.Token != token)
                return Repeated(connection, id, token, Steps.Release);
            if (current.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, EndAsCancelled(connection, id, now, Steps.Release), ChangeCause.Cancel);
            var job = connection.QuerySingle<Job>($"""
                UPDATE jobs SET status = 'pending', started = NULL, lease_expires_at = NULL, claim_step = 'release',
                    attempts = MAX(0, attempts - 1), {ClearRunReport}, worker = NULL
                WHERE id = @id
                RETURNING {Columns}
                """, new { id });
            return JobStep.Changed(JobStatus.InProgress, job, cause);
        }, cancel);
    }

    /// <summary>
    /// Cancels a job. A pending one is cancelled at once; a running one is marked, and ends
    /// cancelled when its worker acknowledges (by calling this with its token), gives it back or
    /// fails it, or when its lease lapses.
    /// </summary>
    public Task<JobStep> CancelAsync(long id, string? token, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobStep.NotFound;
            if (token is not null)
                return current.Status == JobStatus.InProgress && current.Token == token
                    ? JobStep.Changed(current.Status, EndAsCancelled(connection, id, now, Steps.Cancel), ChangeCause.Cancel)
                    : Repeated(connection, id, token, Steps.Cancel);
            return current.Status switch
            {
                JobStatus.Pending => JobStep.Changed(current.Status, EndAsCancelled(connection, id, now, step: null), ChangeCause.Cancel),
                JobStatus.InProgress when !current.CancelRequested => RequestCancel(connection, id),
                JobStatus.InProgress or JobStatus.Cancelled => JobStep.Done(Get(connection, id)!),
                _ => JobStep.Wrong(Get(connection, id)!),
            };
        }, cancel);
    }

    private static JobStep RequestCancel(SqliteConnection connection, long id)
    {
        var job = connection.QuerySingle<Job>($"UPDATE jobs SET cancel_requested = 1 WHERE id = @id RETURNING {Columns}", new { id });
        return JobStep.Done(job, JobChange.Same(job, ChangeCause.CancelRequest));
    }

    /// <summary>Gives a failed or cancelled job a fresh start: pending, attempts counted from zero.</summary>
    public Task<JobStep> RetryAsync(long id, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobStep.NotFound;
            if (current.Status is not (JobStatus.Failed or JobStatus.Cancelled)) return JobStep.Wrong(Get(connection, id)!);
            return Requeue(connection, id, current, ChangeCause.Retry);
        }, cancel);

    /// <summary>Puts a job in any state back in the queue as if it had never been claimed (the original's reset).</summary>
    public Task<JobStep> ResetAsync(long id, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            var current = Current(connection, id);
            return current is null ? JobStep.NotFound : Requeue(connection, id, current, ChangeCause.Reset);
        }, cancel);

    /// <summary>Deletes a job in any state.</summary>
    public Task<JobStep> DeleteAsync(long id, CancellationToken cancel) =>
        CommitAsync(connection =>
            connection.QuerySingleOrDefault<Job>($"DELETE FROM jobs WHERE id = @id RETURNING {Columns}", new { id }) is { } job
                ? JobStep.Done(job, new JobChange(job, job.Status, JobChange.Deleted, ChangeCause.Delete))
                : JobStep.NotFound, cancel);

    /// <summary>
    /// Ends every lease that has lapsed: the job goes back to pending, or — when its attempts are
    /// used up — to failed, or to cancelled when a cancel was waiting for its worker. Answers how many.
    /// </summary>
    public async Task<int> ExpireLeasesAsync()
    {
        var now = Now;
        var expired = await CommitAsync(connection => new ChangeSet(connection.Query<Job>($"""
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
            """, new { now }).Select(job => JobChange.Moved(JobStatus.InProgress, job, ChangeCause.LeaseExpiry)).ToList()), CancellationToken.None);
        return expired.Changes.Count;
    }

    /// <summary>How many backed-off jobs became claimable in (<paramref name="after"/>, <paramref name="upTo"/>] (unix seconds).</summary>
    public async Task<int> BackoffsEndedAsync(long after, long upTo)
    {
        await using var connection = database.OpenRead();
        return await connection.QuerySingleAsync<int>("""
            SELECT COUNT(*) FROM jobs WHERE status = 'pending' AND available_at > 0 AND available_at > @after AND available_at <= @upTo
            """, new { after, upTo });
    }

    /// <summary>Forgets idempotency keys older than their window.</summary>
    public Task ForgetOldIdempotencyKeysAsync() =>
        writer.WriteAsync(connection => connection.Execute("DELETE FROM idempotency_keys WHERE created_at <= @since",
            new { since = Now - (long)IdempotencyWindow.TotalSeconds }));

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = database.OpenRead();
        return Get(connection, id);
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

    /// <summary>Runs a write on the single writer and, once it is committed, publishes the changes it made.</summary>
    private async Task<T> CommitAsync<T>(Func<SqliteConnection, T> write, CancellationToken cancel) where T : IChangeSet
    {
        var result = await writer.WriteAsync(write, cancel);
        sink.Publish(result.Changes);
        return result;
    }

    private sealed record ChangeSet(IReadOnlyList<JobChange> Changes) : IChangeSet;

    private static Job? Get(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<Job>($"SELECT {Columns} FROM jobs WHERE id = @id", new { id });

    private sealed record Row(string Status, string? Token, string? Step, long CancelFlag, long Attempts, long MaxAttempts, string? OutputName)
    {
        public bool CancelRequested => CancelFlag != 0;
    }

    private static Row? Current(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<Row>("""
            SELECT status, claim_token AS token, claim_step AS step, cancel_requested AS cancelflag, attempts, max_attempts AS maxattempts,
                output_name AS outputname
            FROM jobs WHERE id = @id
            """, new { id });

    /// <summary>The worker steps a claim records (claim_step), so that exactly a repeat of the last one is recognised.</summary>
    private static class Steps
    {
        public const string Finish = "finish";
        public const string Fail = "fail";
        public const string RetryableFail = "retryable fail";
        public const string Release = "release";
        public const string Cancel = "cancel";
    }

    /// <summary>
    /// A worker's step that did not apply: exactly the step this same claim took last, repeated
    /// (answered with the job, nothing changed); a stale claim; or a job that is not running. An
    /// unfenced finish of a finished job counts as a repeat, as the original service had it.
    /// </summary>
    private static JobStep Repeated(SqliteConnection connection, long id, string? token, string? step)
    {
        var current = Current(connection, id);
        if (current is null) return JobStep.NotFound;
        var repeat = token is null
            ? step == Steps.Finish && current.Status == JobStatus.Finished
            : step is not null && current.Token == token && current.Step == step && current.Status != JobStatus.InProgress;
        if (repeat) return JobStep.Done(Get(connection, id)!);
        return token is null ? JobStep.NotRunning : JobStep.Stale(Get(connection, id)!);
    }

    /// <summary>Ends a job cancelled; <paramref name="step"/> is the worker's step that ended it, if one did.</summary>
    private static Job EndAsCancelled(SqliteConnection connection, long id, long now, string? step) =>
        connection.QuerySingle<Job>($"""
            UPDATE jobs SET status = 'cancelled', finished = @now, cancel_requested = 0, lease_expires_at = NULL, claim_step = @step,
                {ClearRunReport}
            WHERE id = @id
            RETURNING {Columns}
            """, new { id, now, step });

    /// <summary>Back to pending with a clean slate — unless another live job has taken the job's output_name meanwhile.</summary>
    private static JobStep Requeue(SqliteConnection connection, long id, Row current, ChangeCause cause)
    {
        // A live job holds its own name already; one coming back to life must find it free.
        var comesBackToLife = current.Status is not (JobStatus.Pending or JobStatus.InProgress);
        if (comesBackToLife && current.OutputName is { } name && LiveHolderOf(connection, name) is not null)
            return JobStep.Taken(Get(connection, id)!);
        var job = connection.QuerySingle<Job>($"""
            UPDATE jobs SET status = 'pending', started = NULL, finished = NULL, error = NULL, log_tail = NULL,
                attempts = 0, claim_token = NULL, claim_step = NULL, lease_expires_at = NULL, available_at = 0, cancel_requested = 0,
                worker = NULL, {ClearRunReport}
            WHERE id = @id
            RETURNING {Columns}
            """, new { id });
        return JobStep.Changed(current.Status, job, cause);
    }
}

/// <summary>An Idempotency-Key header and a digest of the request body it came with.</summary>
public sealed record IdempotencyKey(string Key, string RequestHash);

public enum EnqueueOutcome
{
    Created,
    /// <summary>A repeat of a request already done under the same Idempotency-Key: its jobs, nothing new stored.</summary>
    Replayed,
    /// <summary>The Idempotency-Key was used with a different body within its window.</summary>
    KeyReused,
    /// <summary>A requested output_name is held by a live job (or named twice in the request).</summary>
    OutputTaken,
}

/// <summary>What an enqueue did: the jobs (created or replayed), or which item's output_name clashed.</summary>
public sealed record Enqueued(EnqueueOutcome Outcome, IReadOnlyList<Job> Jobs, IReadOnlyList<JobChange> Changes, int? Index = null, string? Name = null)
    : IChangeSet
{
    public static Enqueued Created(IReadOnlyList<Job> jobs) =>
        new(EnqueueOutcome.Created, jobs, jobs.Select(job => JobChange.Moved(JobChange.Created, job, ChangeCause.Enqueue)).ToList());
    public static Enqueued Replayed(IReadOnlyList<Job> jobs) => new(EnqueueOutcome.Replayed, jobs, []);
    public static readonly Enqueued KeyReused = new(EnqueueOutcome.KeyReused, [], []);
    public static Enqueued OutputTaken(int index, string name) => new(EnqueueOutcome.OutputTaken, [], [], index, name);
}
