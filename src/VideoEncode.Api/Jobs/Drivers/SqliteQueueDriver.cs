using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database.Sqlite;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs.Drivers;

/// <summary>
/// The jobs on SQLite, one host (the default). Writes run on the single writer (<see cref="SqliteWriter"/>),
/// which serialises them, so a step reads a row and then updates it without a lock, and nothing needs
/// locking names; they are acknowledged once committed (group commit). Microsoft.Data.Sqlite's async
/// methods complete synchronously, so the lifecycle's async steps run whole in the writer's turn. The
/// steps every claim and heartbeat take are prepared statements kept on the writer's connection.
/// Reads use their own connections. Lists of ids travel as one JSON array (json_each).
/// </summary>
internal sealed class SqliteQueueDriver(QueueDatabase database, SqliteWriter writer, SqliteSearchIndexer searchIndexer) : IQueueDriver<SqliteConnection>
{
    /// <summary>Joins the single writer's queue; the write runs whole in its synchronous turn (<see cref="SqliteWriter.WriteAwaitedAsync{T}"/>).</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, ValueTask<T>> write, CancellationToken cancel) => writer.WriteAwaitedAsync(write, cancel);

    public ValueTask<SqliteConnection> OpenReadAsync() => new(database.OpenRead());

    /// <summary>Nothing to share: this host is the only one.</summary>
    public ValueTask ShareAsync(SqliteConnection connection, IReadOnlyList<JobChange> changes) => ValueTask.CompletedTask;

    /// <summary>New jobs wake the search indexer, which puts their names in the trigram index.</summary>
    public void Committed(IReadOnlyList<JobChange> changes)
    {
        if (changes.Count > 0 && changes[0].Cause == ChangeCause.Enqueue) searchIndexer.Wake();
    }

    /// <summary>A plain read whatever the lock asked: the single writer already makes steps take turns.</summary>
    public ValueTask<ClaimState?> ClaimStateAsync(SqliteConnection connection, long id, RowLock rowLock) =>
        new(connection.QuerySingleOrDefault<ClaimState>(SharedJobSql.SelectClaimState, new { id }));

    /// <summary>
    /// A single UPDATE … RETURNING: the row updated is the row returned,
    /// so two claimers never receive the same job. The subquery walks the partial claim-order
    /// index, so it is O(log n) however many jobs are stored; INDEXED BY pins that plan, because
    /// without statistics SQLite may pick the (status, id) index and sort every pending job.
    /// </summary>
    public ValueTask<Job?> ClaimAsync(SqliteConnection connection, ClaimTerms terms)
    {
        var (claim, token, now, lease) = terms;
        var (index, kind) = SharedJobSql.ClaimSearch(claim);
        var runnable = SharedJobSql.ClaimRunnable(claim, "instr(@encoders, ',' || needs_encoder || ',') > 0");
        var job = connection.QueryFirstPrepared<Job>($"""
            UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = 0, claim_step = NULL
            WHERE id = (SELECT id FROM jobs INDEXED BY {index}
                        WHERE status = 'pending' AND {kind} AND {runnable} AND available_at <= @now AND {SharedJobSql.ClaimAllowed}
                        ORDER BY priority DESC, id LIMIT 1)
            RETURNING {Columns}, claim_token
            """, ("@now", now), ("@token", token), ("@lease", lease), ("@worker", claim.Worker), ("@maxinputbytes", claim.MaxInputBytes),
            ("@encoders", SharedJobSql.EncodersParameter(claim)));
        if (job is not null && claim.Worker is { } worker) SeenClaimer(connection, worker, now, lease, SharedJobSql.WorkerEncoders(claim), claim.WorkerVersion);
        return new(job);
    }

    public ValueTask<NoClaimFacts> WhyNoClaimAsync(SqliteConnection connection, string? worker, long now) =>
        new(connection.QueryFirstPrepared<NoClaimFacts>(SharedJobSql.WhyNoClaim, ("@worker", worker), ("@now", now))!);

    /// <summary>Notes that a named worker is alive (a heartbeat), and answers whether it is being drained.</summary>
    private static bool SeenWorker(SqliteConnection connection, string worker, long now, int lease) =>
        connection.QueryFirstPrepared<long>("""
            INSERT INTO workers (name, last_seen_at, lease_seconds) VALUES (@name, @now, @lease)
            ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds
            RETURNING draining
            """, ("@name", worker), ("@now", now), ("@lease", lease)) == 1;

    /// <summary>As <see cref="SeenWorker"/> for a claim, keeping the encoders it listed and the version it gave.</summary>
    private static void SeenClaimer(SqliteConnection connection, string worker, long now, int lease, string? encoders, string? version) =>
        connection.ExecutePrepared("""
            INSERT INTO workers (name, last_seen_at, lease_seconds, encoders, version) VALUES (@name, @now, @lease, @encoders, @version)
            ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds,
                encoders = excluded.encoders, version = excluded.version
            """, ("@name", worker), ("@now", now), ("@lease", lease), ("@encoders", encoders), ("@version", version));

    /// <summary>Counts a finished or failed job to its worker.</summary>
    private static void CountForWorker(SqliteConnection connection, Job job)
    {
        if (job.Worker is null) return;
        connection.ExecutePrepared("""
            UPDATE workers SET jobs_finished = jobs_finished + (@status = 'finished'), jobs_failed = jobs_failed + (@status = 'failed')
            WHERE name = @name
            """, ("@name", job.Worker), ("@status", job.Status));
    }

    public ValueTask<(Job? Job, bool Drain)> HeartbeatAsync(SqliteConnection connection, long id, Heartbeat report, long now, int leaseSeconds)
    {
        var job = connection.QueryFirstPrepared<Job>(SharedJobSql.Heartbeat, ("@id", id), ("@token", report.ClaimToken), ("@progress", report.Progress),
            ("@speed", report.Speed), ("@eta", report.EtaSeconds), ("@phase", report.Phase), ("@now", now), ("@lease", leaseSeconds));
        return new((job, job?.Worker is { } worker && SeenWorker(connection, worker, now, leaseSeconds)));
    }

    public ValueTask<Job?> FinishAsync(SqliteConnection connection, long id, FinishReport? report, long now)
    {
        var job = connection.QueryFirstPrepared<Job>(SharedJobSql.Finish, ("@id", id), ("@token", report?.ClaimToken), ("@now", now),
            ("@upload", report?.OutputUploadId), ("@outputbytes", report?.OutputBytes), ("@inputbytes", report?.InputBytes),
            ("@commandline", report?.CommandLine), ("@ssim", report?.Ssim), ("@psnr", report?.Psnr), ("@result", report?.Result),
            ("@hdr", report?.Hdr), ("@codec", report?.Codec), ("@height", report?.Height), ("@inputseconds", report?.InputSeconds));
        if (job is not null) CountForWorker(connection, job);
        return new(job);
    }

    public ValueTask<Job> FailAsync(SqliteConnection connection, object parameters)
    {
        var job = connection.QuerySingle<Job>(SharedJobSql.Fail, parameters);
        CountForWorker(connection, job);
        return new(job);
    }

    public Task SaveProgressAsync(IReadOnlyList<HeldProgress> progress) =>
        writer.WriteAsync(connection =>
        {
            foreach (var (job, token, _) in progress)
                connection.ExecutePrepared(SharedJobSql.SaveProgress, ("@id", job.Id), ("@token", token), ("@progress", job.Progress),
                    ("@speed", job.Speed), ("@eta", job.EtaSeconds), ("@phase", job.Phase));
            foreach (var (worker, seen) in SharedJobSql.WorkersSeen(progress))
                connection.ExecutePrepared(SharedJobSql.SawWorker, ("@name", worker), ("@seen", seen));
            return true;
        }, CancellationToken.None);

    /// <summary>Nothing to lock: the writer runs one write at a time, so a key found unused here stays unused until remembered.</summary>
    public ValueTask LockRequestKeyAsync(SqliteConnection connection, string key) => ValueTask.CompletedTask;

    /// <summary>Nothing to lock: the writer runs one write at a time, so a name found free here is still free when taken.</summary>
    public ValueTask LockNamesAsync(SqliteConnection connection, IReadOnlyCollection<string> names) => ValueTask.CompletedTask;

    /// <summary>Each lookup is one prepared, indexed statement: cheap on a local file, so asked name by name.</summary>
    public ValueTask<IReadOnlyCollection<string>> HeldNamesAsync(SqliteConnection connection, IReadOnlyCollection<string> names)
    {
        var held = new List<string>();
        foreach (var name in names)
            if (connection.QueryFirstPrepared<long?>($"SELECT id FROM jobs WHERE output_name = @name COLLATE NOCASE AND {Live} LIMIT 1", ("@name", name)) is not null)
                held.Add(AsciiLower(name));
        return new(held);
    }

    public ValueTask<(int Index, WatchedFile Source, long JobId)?> FirstSeenSourceAsync(SqliteConnection connection,
        IReadOnlyList<(int Index, WatchedFile Source)> sources)
    {
        foreach (var (index, source) in sources)
            if (connection.QueryFirstPrepared<long?>(WatchedFiles.JobOf, ("@path", source.Path), ("@size", source.Size), ("@mtime", source.Mtime)) is { } seenAs)
                return new((index, source, seenAs));
        return new(((int, WatchedFile, long)?)null);
    }

    public ValueTask RememberSourcesAsync(SqliteConnection connection, IReadOnlyList<(WatchedFile Source, long JobId)> sources, long now)
    {
        foreach (var (source, jobId) in sources)
            connection.ExecutePrepared(WatchedFiles.Remember, ("@path", source.Path), ("@size", source.Size), ("@mtime", source.Mtime),
                ("@jobid", jobId), ("@now", now));
        return ValueTask.CompletedTask;
    }

    /// <summary>One prepared INSERT … RETURNING per job: on a local file a loop of prepared statements is as quick as one big one.</summary>
    public ValueTask<List<Job>> InsertAsync(SqliteConnection connection, IReadOnlyList<JobToInsert> jobs, string? createdBy, long now)
    {
        const string insert = $"""
            INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts, output_name, overwrite, created_by,
                              input_upload, input_sha256, input_bytes, settings, profile, needs_encoder)
            VALUES (@FileName, @Crf, @Preset, 'pending', @now, @Priority, @MaxAttempts, @OutputName, @Overwrite, @createdBy,
                    @upload, @sha256, @bytes, @settings, @profile, @needs)
            RETURNING {Columns}
            """;
        var created = new List<Job>(jobs.Count);
        foreach (var (job, outputName, upload, settings) in jobs)
            created.Add(connection.QueryFirstPrepared<Job>(insert, ("@FileName", job.FileName), ("@Crf", job.Crf), ("@Preset", job.Preset),
                ("@Priority", job.Priority), ("@MaxAttempts", job.MaxAttempts), ("@OutputName", outputName), ("@Overwrite", job.Overwrite),
                ("@now", now), ("@createdBy", createdBy), ("@upload", upload?.Id), ("@sha256", upload?.Sha256), ("@bytes", upload?.Length),
                ("@settings", settings), ("@profile", job.Profile), ("@needs", NeededEncoder(job.Settings)))!);
        return new(created);
    }

    public string InIds => "id IN (SELECT value FROM json_each(@ids))";

    public string InParentIds => "parent_id IN (SELECT value FROM json_each(@ids))";

    public object Ids<T>(IEnumerable<T> ids) => JsonSerializer.Serialize(ids);

    /// <summary>Nothing: the single writer already keeps other writes out.</summary>
    public string LockRows => "";

    /// <summary>
    /// The jobs <paramref name="filter"/> selects. A search of three or more characters is answered by
    /// the trigram index (jobs_search, schema step 11), which hands out matching ids newest first, so
    /// a page of a common word stops after a page of matches and a rare one reads only its own; the
    /// jobs table is joined to it (CROSS JOIN keeps that order of the loops). Jobs not indexed yet wait
    /// in jobs_search_backlog (step 12, <see cref="SqliteSearchIndexer"/>), a few normally, and are
    /// matched by name with LIKE. The two arms are one UNION ALL with plain columns, which SQLite
    /// flattens into the outer query and merges in order, each arm reading its own ids in order (the
    /// index's id must be the arm's id column for that). The index cannot look for one or two
    /// characters: those scan the jobs with LIKE. LIKE folds ASCII letters only, the index all letters.
    /// </summary>
    public JobSelection Select(JobFilter filter)
    {
        var selection = JobSelection.Jobs(filter);
        if (filter.Search is not { } search) return selection;
        if (search.EnumerateRunes().Count() < TrigramLength)
            return selection.And(@"file_name LIKE @like ESCAPE '\'", "like", filter.ContainsPattern!);
        // One FTS5 phrase: the text in double quotes, its own quotes doubled, so nothing in it is query syntax.
        selection.Parameters.Add("match", "\"" + search.Replace("\"", "\"\"") + "\"");
        selection.Parameters.Add("like", filter.ContainsPattern);
        return selection with
        {
            From = $"""
                (SELECT jobs_search.rowid AS id, {StoredColumns} FROM jobs_search CROSS JOIN jobs ON jobs.id = jobs_search.rowid
                 WHERE jobs_search MATCH @match
                 UNION ALL
                 SELECT jobs_search_backlog.id, {StoredColumns} FROM jobs_search_backlog CROSS JOIN jobs ON jobs.id = jobs_search_backlog.id
                 WHERE jobs.file_name LIKE @like ESCAPE '\') AS jobs
                """,
        };
    }

    /// <summary>The columns of jobs that <see cref="JobRules.Columns"/> reads, besides id, under their stored names.</summary>
    private static readonly string StoredColumns = string.Join(", ", Columns.Split(',')
        .Select(column => column.Split(" AS ")[0].Trim()).Where(column => column != "id"));

    private const int TrigramLength = 3;

    public Task<int> DeleteEndedAsync(long endedBefore, int limit) =>
        writer.WriteAsync(connection => connection.Execute(SharedJobSql.DeleteEnded(indexHints: true), new { before = endedBefore, limit }));

    public Task ForgetOldRecordsAsync(long since) =>
        writer.WriteAsync(connection => connection.Execute(SharedJobSql.ForgetIdempotencyKeys, new { since }));

    /// <summary>
    /// One bounded step of incremental vacuum per write, so the writes queued meanwhile take their
    /// turn between steps; at most <see cref="ReclaimStepsPerCall"/> steps, the rest on the next round.
    /// </summary>
    public async Task ReclaimSpaceAsync()
    {
        for (var step = 0; step < ReclaimStepsPerCall; step++)
            if (await writer.WriteAsync(IncrementalVacuum.Step) == 0) return;
    }

    private const int ReclaimStepsPerCall = 25;
}
