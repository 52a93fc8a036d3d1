using Dapper;
using Npgsql;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Cluster;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs.Drivers;

/// <summary>
/// The jobs on PostgreSQL, shared by any number of hosts. Every write is one transaction
/// (<see cref="PostgresDatabase.WriteAsync"/>, retried on a serialisation failure or deadlock): a step
/// on a job first locks its row (SELECT … FOR UPDATE), so two steps on one job — from two hosts, say —
/// take turns, and a claim skips rows other claims are taking (FOR UPDATE SKIP LOCKED), so concurrent
/// claims never wait for each other nor get the same job. Requests wanting the same output names or
/// sources take turns on advisory locks. The changes a write made are stored in the same transaction
/// (<see cref="SharedChangeFeed.RecordAsync"/>), for every host's event stream. Lists of ids travel as arrays.
/// </summary>
internal sealed class PostgresQueueDriver(PostgresDatabase database, SharedChangeFeed feed, HostIdentity host) : IQueueDriver<NpgsqlConnection>
{
    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, ValueTask<T>> write, CancellationToken cancel) =>
        database.WriteAsync(connection => write(connection).AsTask(), cancel);

    public ValueTask<NpgsqlConnection> OpenReadAsync() => database.OpenAsync();

    public ValueTask ShareAsync(NpgsqlConnection connection, IReadOnlyList<JobChange> changes) =>
        new(SharedChangeFeed.RecordAsync(connection, changes, host.Id));

    public void Committed(IReadOnlyList<JobChange> changes)
    {
        if (changes.Count > 0) feed.Committed();
    }

    public async ValueTask<ClaimState?> ClaimStateAsync(NpgsqlConnection connection, long id, RowLock rowLock) =>
        await connection.QuerySingleOrDefaultAsync<ClaimState>(SharedJobSql.SelectClaimState + rowLock switch
        {
            RowLock.Job => " FOR UPDATE",
            RowLock.Running => " AND status = 'in_progress' FOR UPDATE",
            _ => "",
        }, new { id });

    /// <summary>
    /// One UPDATE … RETURNING whose subquery locks the first claimable row that no other claim is
    /// locking right now (SKIP LOCKED), walking the partial claim-order index; the worker is noted as
    /// seen in the same round trip.
    /// </summary>
    public async ValueTask<Job?> ClaimAsync(NpgsqlConnection connection, ClaimTerms terms)
    {
        var (claim, token, now, lease) = terms;
        var (_, kind) = SharedJobSql.ClaimSearch(claim);
        var runnable = SharedJobSql.ClaimRunnable(claim, "strpos(@encoders, ',' || needs_encoder || ',') > 0");
        return await connection.QuerySingleOrDefaultAsync<Job>($"""
            WITH claimed AS (
                UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                    attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = false, claim_step = NULL
                WHERE id = (SELECT id FROM jobs WHERE status = 'pending' AND {kind} AND {runnable} AND available_at <= @now
                                AND {SharedJobSql.ClaimAllowed}
                            ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING {Columns}, claim_token),
            seen AS ({SeenClaimer})
            SELECT * FROM claimed
            """, new { now, token, lease = (long)lease, worker = claim.Worker, maxinputbytes = claim.MaxInputBytes,
                encoders = SharedJobSql.EncodersParameter(claim), workerencoders = SharedJobSql.WorkerEncoders(claim), workerversion = claim.WorkerVersion });
    }

    public async ValueTask<NoClaimFacts> WhyNoClaimAsync(NpgsqlConnection connection, string? worker, long now) =>
        await connection.QuerySingleAsync<NoClaimFacts>(SharedJobSql.WhyNoClaim, new { worker, now });

    /// <summary>
    /// A statement for a WITH clause that notes the named worker of the job in <paramref name="changed"/>
    /// (a heartbeat that landed) as alive, in the same round trip as the step itself; it returns whether
    /// that worker is being drained.
    /// </summary>
    private static string SeenWorker(string changed) => $"""
        INSERT INTO workers (name, last_seen_at, lease_seconds)
        SELECT worker, @now, @lease FROM {changed} WHERE worker IS NOT NULL
        ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds
        RETURNING draining
        """;

    /// <summary>As <see cref="SeenWorker"/> for the job a claim took, keeping the encoders the claim listed (@workerencoders) and the version it gave (@workerversion).</summary>
    private const string SeenClaimer = """
        INSERT INTO workers (name, last_seen_at, lease_seconds, encoders, version)
        SELECT worker, @now, @lease, CAST(@workerencoders AS text), CAST(@workerversion AS text) FROM claimed WHERE worker IS NOT NULL
        ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds,
            encoders = excluded.encoders, version = excluded.version
        """;

    /// <summary>A statement for a WITH clause that counts the finished or failed job in <paramref name="ended"/> to its worker.</summary>
    private static string CountForWorker(string ended) => $"""
        UPDATE workers SET jobs_finished = jobs_finished + (ended.status = 'finished')::int,
                           jobs_failed = jobs_failed + (ended.status = 'failed')::int
        FROM {ended} AS ended WHERE workers.name = ended.worker
        """;

    public async ValueTask<(Job? Job, bool Drain)> HeartbeatAsync(NpgsqlConnection connection, long id, Heartbeat report, long now, int leaseSeconds)
    {
        var job = await connection.QuerySingleOrDefaultAsync<Job>($"""
            WITH renewed AS ({SharedJobSql.Heartbeat}), seen AS ({SeenWorker("renewed")})
            SELECT renewed.*, COALESCE((SELECT draining FROM seen), 0) = 1 AS drain FROM renewed
            """, new { id, token = report.ClaimToken, progress = report.Progress, speed = report.Speed, eta = report.EtaSeconds, phase = report.Phase,
                now, lease = (long)leaseSeconds });
        return job is null ? (null, false) : (job with { Drain = false }, job.Drain);
    }

    public async ValueTask<Job?> FinishAsync(NpgsqlConnection connection, long id, FinishReport? report, long now) =>
        await connection.QuerySingleOrDefaultAsync<Job>($"""
            WITH finished AS ({SharedJobSql.Finish}), counted AS ({CountForWorker("finished")})
            SELECT * FROM finished
            """, new { id, token = report?.ClaimToken, now, upload = report?.OutputUploadId, outputbytes = report?.OutputBytes,
                inputbytes = report?.InputBytes, commandline = report?.CommandLine, ssim = report?.Ssim, psnr = report?.Psnr, result = report?.Result,
                hdr = report?.Hdr, codec = report?.Codec, height = report?.Height, inputseconds = report?.InputSeconds });

    public async ValueTask<Job> FailAsync(NpgsqlConnection connection, object parameters) =>
        await connection.QuerySingleAsync<Job>($"""
            WITH failed AS ({SharedJobSql.Fail}), counted AS ({CountForWorker("failed")})
            SELECT * FROM failed
            """, parameters);

    public async Task SaveProgressAsync(IReadOnlyList<HeldProgress> progress)
    {
        // In id order, so two hosts saving figures of the same jobs lock their rows in the same order.
        var items = progress.OrderBy(item => item.Job.Id).ToList();
        await database.WriteAsync(async connection =>
        {
            var saved = (await connection.QueryAsync<Job>($"""
                UPDATE jobs SET progress = item.item_progress, speed = item.item_speed, eta_seconds = item.item_eta, phase = item.item_phase
                FROM unnest(@ids, @tokens, @progresses, @speeds, @etas, @phases)
                    AS item(item_id, item_token, item_progress, item_speed, item_eta, item_phase)
                WHERE jobs.id = item.item_id AND jobs.status = 'in_progress' AND jobs.claim_token = item.item_token
                RETURNING {Columns}
                """, new
            {
                ids = items.Select(item => item.Job.Id).ToArray(),
                tokens = items.Select(item => item.Token).ToArray(),
                progresses = items.Select(item => item.Job.Progress).ToArray(),
                speeds = items.Select(item => item.Job.Speed).ToArray(),
                etas = items.Select(item => item.Job.EtaSeconds).ToArray(),
                phases = items.Select(item => item.Job.Phase).ToArray(),
            })).AsList();
            var seen = SharedJobSql.WorkersSeen(items);
            await connection.ExecuteAsync("""
                UPDATE workers SET last_seen_at = item.seen FROM unnest(@names, @seens) AS item(name, seen)
                WHERE workers.name = item.name AND workers.last_seen_at < item.seen
                """, new { names = seen.Keys.ToArray(), seens = seen.Values.ToArray() });
            // The other hosts' streams hear the figures from here (this host's had them at once): the rows as written,
            // so a cancel another host asked meanwhile shows in them; none of a job that ended meanwhile, which would
            // show as running again.
            await SharedChangeFeed.RecordAsync(connection, saved.Select(job => JobChange.Same(job, ChangeCause.Heartbeat)).ToList(), host.Id);
            return true;
        }, CancellationToken.None);
        feed.Committed();
    }

    public async ValueTask LockRequestKeyAsync(NpgsqlConnection connection, string key) =>
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key });

    /// <summary>Locks output names for the rest of the transaction (<see cref="LockBucketsAsync"/>); a default name stands for its numbered forms too.</summary>
    public async ValueTask LockNamesAsync(NpgsqlConnection connection, IReadOnlyCollection<string> names) =>
        await LockBucketsAsync(connection, OutputNameLocks, names.Select(AsciiLower).Distinct().ToArray());

    /// <summary>
    /// Locks <paramref name="keys"/> for the rest of the transaction: an advisory lock of class
    /// <paramref name="lockClass"/> per bucket of keys, taken in bucket order so two requests cannot deadlock.
    /// Buckets, not keys: a 10,000-job request would otherwise take 10,000 locks and could fill the server's
    /// lock table (max_locks_per_transaction); two requests whose keys share a bucket merely take turns.
    /// </summary>
    private static Task LockBucketsAsync(NpgsqlConnection connection, int lockClass, string[] keys) =>
        connection.ExecuteAsync($"""
            SELECT pg_advisory_xact_lock({lockClass}, bucket)
            FROM (SELECT DISTINCT hashtext(key) & {LockBuckets - 1} AS bucket FROM unnest(@keys) AS key) AS buckets
            ORDER BY bucket
            """, new { keys });

    private const int LockBuckets = 256;

    /// <summary>The advisory-lock classes of output-name buckets ("ON") and watched-file path buckets ("WF"): arbitrary numbers.</summary>
    private const int OutputNameLocks = 0x4F4E, WatchedFileLocks = 0x5746;

    /// <summary>One statement for all the names, which the unique index on live lowered names answers.</summary>
    public async ValueTask<IReadOnlyCollection<string>> HeldNamesAsync(NpgsqlConnection connection, IReadOnlyCollection<string> names) =>
        (await connection.QueryAsync<string>($"SELECT output_name FROM jobs WHERE lower(output_name COLLATE \"C\") = ANY(@lowered) AND {Live}",
            new { lowered = names.Select(AsciiLower).ToArray() })).Select(AsciiLower).ToList();

    /// <summary>The sources are locked first (<see cref="LockBucketsAsync"/>), so two requests for one file take turns and the second sees the first's job.</summary>
    public async ValueTask<(int Index, WatchedFile Source, long JobId)?> FirstSeenSourceAsync(NpgsqlConnection connection,
        IReadOnlyList<(int Index, WatchedFile Source)> sources)
    {
        await LockBucketsAsync(connection, WatchedFileLocks, sources.Select(item => item.Source.Path).Distinct().ToArray());
        var seen = (await connection.QueryAsync<(string Path, long Size, long Mtime, long JobId)>("""
            SELECT watched.path, watched.size, watched.mtime, watched.job_id
            FROM watched_files AS watched JOIN unnest(@paths, @sizes, @mtimes) AS asked(path, size, mtime)
                ON watched.path = asked.path AND watched.size = asked.size AND watched.mtime = asked.mtime
            """, new
        {
            paths = sources.Select(item => item.Source.Path).ToArray(),
            sizes = sources.Select(item => item.Source.Size).ToArray(),
            mtimes = sources.Select(item => item.Source.Mtime).ToArray(),
        })).ToDictionary(row => new WatchedFile(row.Path, row.Size, row.Mtime), row => row.JobId);
        foreach (var (index, source) in sources)
            if (seen.TryGetValue(source, out var jobId)) return (index, source, jobId);
        return null;
    }

    public async ValueTask RememberSourcesAsync(NpgsqlConnection connection, IReadOnlyList<(WatchedFile Source, long JobId)> sources, long now) =>
        await connection.ExecuteAsync(WatchedFiles.Remember,
            sources.Select(item => new { item.Source.Path, item.Source.Size, item.Source.Mtime, jobid = item.JobId, now }));

    /// <summary>One statement for the whole request: arrays of the columns, unnested into rows, in request order.</summary>
    public async ValueTask<List<Job>> InsertAsync(NpgsqlConnection connection, IReadOnlyList<JobToInsert> jobs, string? createdBy, long now) =>
        (await connection.QueryAsync<Job>($"""
            INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts, output_name, overwrite, created_by,
                              input_upload, input_sha256, input_bytes, settings, profile, needs_encoder)
            SELECT file_name, crf, preset, 'pending', @now, priority, max_attempts, output_name, overwrite, @createdBy,
                   input_upload, input_sha256, input_bytes, settings, profile, needs_encoder
            FROM unnest(@files, @crfs, @presets, @priorities, @maxAttempts, @outputs, @overwrites, @uploads, @sha256s, @sizes,
                        @settings, @profiles, @needs)
                WITH ORDINALITY AS item(file_name, crf, preset, priority, max_attempts, output_name, overwrite,
                                        input_upload, input_sha256, input_bytes, settings, profile, needs_encoder, position)
            ORDER BY position
            RETURNING {Columns}
            """, new
        {
            now,
            createdBy,
            files = jobs.Select(item => item.Job.FileName).ToArray(),
            crfs = jobs.Select(item => item.Job.Crf).ToArray(),
            presets = jobs.Select(item => item.Job.Preset).ToArray(),
            priorities = jobs.Select(item => (long)item.Job.Priority).ToArray(),
            maxAttempts = jobs.Select(item => (long)item.Job.MaxAttempts).ToArray(),
            outputs = jobs.Select(item => item.OutputName).ToArray(),
            overwrites = jobs.Select(item => item.Job.Overwrite).ToArray(),
            uploads = jobs.Select(item => item.Upload?.Id).ToArray(),
            sha256s = jobs.Select(item => item.Upload?.Sha256).ToArray(),
            sizes = jobs.Select(item => item.Upload?.Length).ToArray(),
            settings = jobs.Select(item => item.Settings).ToArray(),
            profiles = jobs.Select(item => item.Job.Profile).ToArray(),
            needs = jobs.Select(item => NeededEncoder(item.Job.Settings)).ToArray(),
        })).OrderBy(job => job.Id).ToList();

    public string InIds => "id = ANY(@ids)";

    public string InParentIds => "parent_id = ANY(@ids)";

    public object Ids<T>(IEnumerable<T> ids) => ids.ToArray();

    public string LockRows => "FOR UPDATE";

    /// <summary>
    /// The jobs <paramref name="filter"/> selects; a search is ILIKE (backslash is its default escape),
    /// which the trigram index (schema step 7, pg_trgm) answers for three or more characters. Shorter
    /// ones scan, as no trigram index can help them.
    /// </summary>
    public JobSelection Select(JobFilter filter)
    {
        var selection = JobSelection.Jobs(filter);
        return filter.ContainsPattern is { } pattern ? selection.And("file_name ILIKE @like", "like", pattern) : selection;
    }

    public Task<int> DeleteEndedAsync(long endedBefore, int limit) =>
        database.WriteAsync(connection => connection.ExecuteAsync(SharedJobSql.DeleteEnded(indexHints: false), new { before = endedBefore, limit }));

    public Task ForgetOldRecordsAsync(long since) =>
        database.WriteAsync(async connection =>
        {
            await connection.ExecuteAsync(SharedJobSql.ForgetIdempotencyKeys, new { since });
            await SharedChangeFeed.ForgetOldAsync(connection);
            return true;
        });

    /// <summary>Nothing to do: autovacuum reuses the space of deleted rows (schema.postgres.sql tunes it for the jobs table).</summary>
    public Task ReclaimSpaceAsync() => Task.CompletedTask;
}
