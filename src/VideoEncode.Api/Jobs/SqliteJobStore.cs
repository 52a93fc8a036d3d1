using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Database.Sqlite;
using static VideoEncode.Api.Database.DapperSetup;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The jobs on SQLite (see <see cref="IJobStore"/> for what each method promises). Changes run on
/// the single writer (<see cref="SqliteWriter"/>), which serialises them, so a step can read a row
/// and then update it without a lock; they are acknowledged only once committed, and the changes
/// each made go to <see cref="JobChangeSink"/> right after the commit. Reads use their own
/// connections. A worker's own steps keep the token on the row, so repeating one that landed is
/// recognised and answered with the job.
/// </summary>
public sealed partial class SqliteJobStore(QueueDatabase database, SqliteWriter writer, TimeProvider clock,
    IOptions<QueueOptions> options, JobChangeSink sink, ChangeJournal journal, SqliteSearchIndexer searchIndexer) : IJobStore
{
    private QueueOptions Settings => options.Value;

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public async Task<Enqueued> CreateAsync(IReadOnlyList<NewJob> jobs, IdempotencyKey? key, string? createdBy, CancellationToken cancel)
    {
        var now = Now;
        var enqueued = await CommitAsync(connection =>
        {
            if (key is not null && Remembered(connection, key.Key, now) is { } seen)
                return seen.RequestHash == key.RequestHash
                    ? Enqueued.Replayed(connection.Query<Job>($"SELECT {Columns} FROM jobs WHERE id IN @ids ORDER BY id",
                        new { ids = seen.Ids }).AsList())
                    : Enqueued.KeyReused;

            // The writer runs one write at a time, so a source found absent here is still absent when remembered below.
            var sources = WatchedFiles.Of(jobs);
            foreach (var (sourceIndex, source) in sources)
                if (connection.QueryFirstPrepared<long?>(WatchedFiles.JobOf, ("@path", source.Path), ("@size", source.Size), ("@mtime", source.Mtime)) is { } seenAs)
                    return Enqueued.SourceSeen(sourceIndex, source.Path, seenAs);

            var uploadIds = StoredInputs.Named(jobs);
            var (attached, uploads, unusable) = StoredInputs.Attach(jobs,
                uploadIds.Length == 0 ? [] : connection.Query<StoredInput>(StoredInputs.Lookup("id IN @ids"), new { ids = uploadIds, keepuntil = now + UploadCreation.ExpirySeconds(Settings) }));
            if (unusable is var (badIndex, problem)) return Enqueued.UploadMissing(badIndex, problem);
            jobs = attached;

            var naming = new OutputNaming(jobs);
            // Each lookup is one prepared, indexed statement: cheap on a local file, so asked name by name.
            for (var names = naming.ToLookUp(); names.Count > 0; names = naming.ToLookUp())
                naming.Found(names.Where(name => LiveHolderOf(connection, name) is not null).ToList());
            if (naming.Clash is var (index, name)) return Enqueued.OutputTaken(index, name);

            const string insert = $"""
                INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts, output_name, overwrite, created_by,
                                  input_upload, input_sha256, input_bytes, settings, profile, needs_encoder)
                VALUES (@FileName, @Crf, @Preset, 'pending', @now, @Priority, @MaxAttempts, @OutputName, @Overwrite, @createdBy,
                        @upload, @sha256, @bytes, @settings, @profile, @needs)
                RETURNING {Columns}
                """;
            var created = new List<Job>(jobs.Count);
            var settings = SettingsColumn.WriteEach(jobs.Select(job => job.Settings).ToList());
            for (var i = 0; i < jobs.Count; i++)
            {
                var job = jobs[i];
                var upload = job.UploadId is { } id ? uploads[id] : null;
                created.Add(connection.QueryFirstPrepared<Job>(insert, ("@FileName", job.FileName), ("@Crf", job.Crf), ("@Preset", job.Preset),
                    ("@Priority", job.Priority), ("@MaxAttempts", job.MaxAttempts), ("@OutputName", naming.Names[i]), ("@Overwrite", job.Overwrite),
                    ("@now", now), ("@createdBy", createdBy), ("@upload", upload?.Id), ("@sha256", upload?.Sha256), ("@bytes", upload?.Length),
                    ("@settings", settings[i]), ("@profile", job.Profile), ("@needs", NeededEncoder(job.Settings)))!);
            }
            foreach (var (sourceIndex, source) in sources)
                connection.ExecutePrepared(WatchedFiles.Remember, ("@path", source.Path), ("@size", source.Size), ("@mtime", source.Mtime),
                    ("@jobid", created[sourceIndex].Id), ("@now", now));
            if (key is not null)
                connection.Execute(SharedJobSql.RememberRequest,
                    new { key = key.Key, hash = key.RequestHash, ids = string.Join(',', created.Select(job => job.Id)), now });
            return Enqueued.Created(created);
        }, cancel);
        if (enqueued.Outcome == EnqueueOutcome.Created) searchIndexer.Wake();
        return enqueued;
    }

    private static RememberedRequest? Remembered(SqliteConnection connection, string key, long now) =>
        connection.QuerySingleOrDefault<RememberedRequest>(
            "SELECT request_hash AS requesthash, job_ids AS jobids FROM idempotency_keys WHERE key = @key AND created_at > @since",
            new { key, since = now - (long)IdempotencyWindow.TotalSeconds });

    /// <summary>The live job that writes <paramref name="outputName"/>, if any (letter case ignored).</summary>
    private static long? LiveHolderOf(SqliteConnection connection, string outputName) =>
        connection.QueryFirstPrepared<long?>($"SELECT id FROM jobs WHERE output_name = @name COLLATE NOCASE AND {Live} LIMIT 1",
            ("@name", outputName));

    /// <summary>
    /// A single UPDATE … RETURNING: the row updated is the row returned,
    /// so two claimers never receive the same job. The subquery walks the partial claim-order
    /// index, so it is O(log n) however many jobs are stored; INDEXED BY pins that plan, because
    /// without statistics SQLite may pick the (status, id) index and sort every pending job.
    /// </summary>
    public Task<JobStep> ClaimAsync(ClaimRequest claim, bool legacyClient, CancellationToken cancel)
    {
        var worker = claim.Worker;
        var (index, kind) = SharedJobSql.ClaimSearch(claim);
        var runnable = SharedJobSql.ClaimRunnable(claim, "instr(@encoders, ',' || needs_encoder || ',') > 0");
        var now = Now;
        var lease = legacyClient ? Settings.LegacyLeaseSeconds : Settings.LeaseSeconds;
        var token = NewClaimToken();
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>($"""
                UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                    attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = 0, claim_step = NULL
                WHERE id = (SELECT id FROM jobs INDEXED BY {index}
                            WHERE status = 'pending' AND {kind} AND {runnable} AND available_at <= @now AND {SharedJobSql.ClaimAllowed}
                            ORDER BY priority DESC, id LIMIT 1)
                RETURNING {Columns}, claim_token
                """, ("@now", now), ("@token", token), ("@lease", lease), ("@worker", worker), ("@maxinputbytes", claim.MaxInputBytes),
                ("@encoders", SharedJobSql.EncodersParameter(claim)));
            if (job is null)
            {
                var (paused, draining) = connection.QueryFirstPrepared<(long?, long?)>(SharedJobSql.WhyNoClaim, ("@worker", worker));
                return JobStep.NoClaim(paused, draining);
            }
            if (worker is not null) SeenClaimer(connection, worker, now, lease, SharedJobSql.WorkerEncoders(claim));
            return JobStep.Changed(JobStatus.Pending, job, legacyClient ? ChangeCause.LegacyClaim : ChangeCause.Claim);
        }, cancel);
    }

    /// <summary>Notes that a named worker is alive (a claim or a heartbeat), and answers whether it is being drained.</summary>
    private static bool SeenWorker(SqliteConnection connection, string name, long now, long lease) =>
        connection.QueryFirstPrepared<long>("""
            INSERT INTO workers (name, last_seen_at, lease_seconds) VALUES (@name, @now, @lease)
            ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds
            RETURNING draining
            """, ("@name", name), ("@now", now), ("@lease", lease)) == 1;

    /// <summary>Notes that a named worker claimed a job, and the encoders its claim listed (null: none, an older client).</summary>
    private static void SeenClaimer(SqliteConnection connection, string name, long now, long lease, string? encoders) =>
        connection.ExecutePrepared("""
            INSERT INTO workers (name, last_seen_at, lease_seconds, encoders) VALUES (@name, @now, @lease, @encoders)
            ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds,
                encoders = excluded.encoders
            """, ("@name", name), ("@now", now), ("@lease", lease), ("@encoders", encoders));

    /// <summary>Counts a finished or failed job to its worker.</summary>
    private static void CountForWorker(SqliteConnection connection, Job job)
    {
        if (job.Worker is null) return;
        connection.ExecutePrepared("""
            UPDATE workers SET jobs_finished = jobs_finished + (@status = 'finished'), jobs_failed = jobs_failed + (@status = 'failed')
            WHERE name = @name
            """, ("@name", job.Worker), ("@status", job.Status));
    }

    public Task<JobStep> HeartbeatAsync(long id, Heartbeat report, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>(SharedJobSql.Heartbeat, ("@id", id), ("@token", report.ClaimToken), ("@progress", report.Progress), ("@speed", report.Speed),
                ("@eta", report.EtaSeconds), ("@phase", report.Phase), ("@now", now), ("@lease", Settings.LeaseSeconds));
            if (job is null) return Repeated(connection, id, report.ClaimToken, step: null);
            var drain = job.Worker is not null && SeenWorker(connection, job.Worker, now, Settings.LeaseSeconds);
            return JobStep.Done(job with { Drain = drain }, JobChange.Same(job, ChangeCause.Heartbeat));
        }, cancel);
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

    public Task<JobStep> FinishAsync(long id, FinishReport? report, CancellationToken cancel)
    {
        var now = Now;
        var token = report?.ClaimToken;
        return CommitAsync(connection =>
        {
            var job = connection.QueryFirstPrepared<Job>(SharedJobSql.Finish, ("@id", id), ("@token", token), ("@now", now),
                ("@upload", report?.OutputUploadId), ("@outputbytes", report?.OutputBytes), ("@inputbytes", report?.InputBytes),
                ("@commandline", report?.CommandLine), ("@ssim", report?.Ssim), ("@psnr", report?.Psnr), ("@result", report?.Result));
            if (job is null)
                return connection.QueryFirstPrepared<long>(SharedJobSql.ResultMissing, ("@id", id), ("@token", token), ("@upload", report?.OutputUploadId),
                    ("@result", report?.Result)) > 0
                    ? JobStep.ResultMissing
                    : Repeated(connection, id, token, Steps.Finish);
            CountForWorker(connection, job);
            return JobStep.Changed(JobStatus.InProgress, job, ChangeCause.Finish);
        }, cancel);
    }

    public Task<JobStep> FailAsync(long id, FailureReport report, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            // Read inside the write: the backoff must start when the failure is recorded, not when it was queued.
            var now = Now;
            var current = Current(connection, id);
            if (!HoldsClaim(current, report.ClaimToken)) return Repeated(connection, id, report.ClaimToken, FailStep(report));
            var outcome = Judge(report, current!, Settings.RetryBackoffSeconds);
            if (report.Retryable && current!.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, EndAsCancelled(connection, id, now, outcome.Step), ChangeCause.Cancel);
            var job = connection.QuerySingle<Job>(SharedJobSql.Fail, SharedJobSql.FailParameters(id, now, outcome, report));
            CountForWorker(connection, job);
            return JobStep.Changed(JobStatus.InProgress, job, outcome.Retry ? ChangeCause.RetryableFail : ChangeCause.Fail);
        }, cancel);

    public Task<JobStep> ReleaseAsync(long id, string token, CancellationToken cancel) =>
        GiveBackAsync(id, token, ChangeCause.Release, cancel);

    public Task<JobStep> GiveBackUndeliveredClaimAsync(long id, string token) =>
        GiveBackAsync(id, token, ChangeCause.AbandonedClaim, CancellationToken.None);

    private Task<JobStep> GiveBackAsync(long id, string token, ChangeCause cause, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (!HoldsClaim(current, token))
                return Repeated(connection, id, token, Steps.Release);
            if (current!.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, EndAsCancelled(connection, id, now, Steps.Release), ChangeCause.Cancel);
            var job = connection.QuerySingle<Job>(SharedJobSql.GiveBack, new { id });
            return JobStep.Changed(JobStatus.InProgress, job, cause);
        }, cancel);
    }

    public Task<JobStep> CancelAsync(long id, string? token, string? actor, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobStep.NotFound;
            if (token is not null)
                return HoldsClaim(current, token)
                    ? JobStep.Changed(current.Status, EndAsCancelled(connection, id, now, Steps.Cancel), ChangeCause.Cancel)
                    : Repeated(connection, id, token, Steps.Cancel);
            return current.Status switch
            {
                JobStatus.Pending => JobStep.Changed(current.Status, EndAsCancelled(connection, id, now, step: null), ChangeCause.Cancel),
                JobStatus.InProgress when !current.CancelRequested => RequestCancel(connection, id),
                JobStatus.InProgress or JobStatus.Cancelled => JobStep.Done(Get(connection, id)!),
                _ => JobStep.Wrong(Get(connection, id)!),
            };
        }, cancel, token is null ? actor : null);
    }

    private static JobStep RequestCancel(SqliteConnection connection, long id)
    {
        var job = connection.QuerySingle<Job>(SharedJobSql.RequestCancel, new { id });
        return JobStep.Done(job, JobChange.Same(job, ChangeCause.CancelRequest));
    }

    public Task<JobStep> RetryAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            var current = Current(connection, id);
            if (current is null) return JobStep.NotFound;
            if (current.Status is not (JobStatus.Failed or JobStatus.Cancelled)) return JobStep.Wrong(Get(connection, id)!);
            return Requeue(connection, id, current, ChangeCause.Retry);
        }, cancel, actor);

    public Task<JobStep> ResetAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(connection =>
        {
            var current = Current(connection, id);
            return current is null ? JobStep.NotFound : Requeue(connection, id, current, ChangeCause.Reset);
        }, cancel, actor);

    public Task<JobStep> DeleteAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(connection =>
            connection.QuerySingleOrDefault<Job>(SharedJobSql.Delete, new { id }) is { } job
                ? JobStep.Done(job, new JobChange(job, job.Status, JobChange.Deleted, ChangeCause.Delete))
                : JobStep.NotFound, cancel, actor);

    public async Task<int> ExpireLeasesAsync()
    {
        var now = Now;
        var expired = await CommitAsync(connection => new ChangeSet(connection.Query<Job>(SharedJobSql.ExpireLeases, new { now })
            .Select(job => JobChange.Moved(JobStatus.InProgress, job, ChangeCause.LeaseExpiry)).ToList()), CancellationToken.None);
        return expired.Changes.Count;
    }

    public async Task<int> BackoffsEndedAsync(long after, long upTo)
    {
        await using var connection = database.OpenRead();
        return await connection.QuerySingleAsync<int>(SharedJobSql.BackoffsEnded, new { after, upto = upTo });
    }

    public Task ForgetOldRecordsAsync() =>
        writer.WriteAsync(connection => connection.Execute(SharedJobSql.ForgetIdempotencyKeys,
            new { since = Now - (long)IdempotencyWindow.TotalSeconds }));

    public Task<int> DeleteEndedAsync(long endedBefore, int limit) =>
        writer.WriteAsync(connection => connection.Execute(SharedJobSql.DeleteEnded(indexHints: true), new { before = endedBefore, limit }));

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

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = database.OpenRead();
        return Get(connection, id);
    }

    /// <summary>With a status, an index range scan on (status, id), starting below before_id when given; a search, see <see cref="Select"/>.</summary>
    public async Task<IReadOnlyList<Job>> ListAsync(JobListQuery query)
    {
        await using var connection = database.OpenRead();
        var (sql, parameters) = Select(query.Filter).List(query);
        return (await connection.QueryAsync<Job>(sql, parameters)).AsList();
    }

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
    private static JobSelection Select(JobFilter filter)
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

    /// <summary>
    /// Runs a write on the single writer, with what must commit beside its changes (<see cref="ChangeJournal"/>;
    /// <paramref name="actor"/> names the key of a person's action), and once committed publishes the changes.
    /// </summary>
    private async Task<T> CommitAsync<T>(Func<SqliteConnection, T> write, CancellationToken cancel, string? actor = null) where T : IChangeSet
    {
        var result = await writer.WriteAsync(connection =>
        {
            var result = write(connection);
            // Microsoft.Data.Sqlite's async methods complete synchronously, so this does not block on I/O of its own.
            journal.RecordAsync(connection, result.Changes, actor, Now).GetAwaiter().GetResult();
            return result;
        }, cancel);
        sink.Publish(result.Changes);
        return result;
    }

    private sealed record ChangeSet(IReadOnlyList<JobChange> Changes) : IChangeSet;

    private static Job? Get(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<Job>(SharedJobSql.SelectJob, new { id });

    private static ClaimState? Current(SqliteConnection connection, long id) =>
        connection.QuerySingleOrDefault<ClaimState>(SharedJobSql.SelectClaimState, new { id });

    /// <summary>A worker's step that did not apply: a repeat of the claim's last step (answered with the job), or refused.</summary>
    private static JobStep Repeated(SqliteConnection connection, long id, string? token, string? step) =>
        JudgeRepeat(Current(connection, id), token, step) switch
        {
            StepOutcome.Done => JobStep.Done(Get(connection, id)!),
            StepOutcome.StaleClaim => JobStep.Stale(Get(connection, id)!),
            var refused => new JobStep(refused, null, []),
        };

    /// <summary>Ends a job cancelled; <paramref name="step"/> is the worker's step that ended it, if one did.</summary>
    private static Job EndAsCancelled(SqliteConnection connection, long id, long now, string? step) =>
        connection.QuerySingle<Job>(SharedJobSql.EndAsCancelled, new { id, now, step });

    /// <summary>Back to pending with a clean slate — unless another live job has taken the job's output_name meanwhile.</summary>
    private static JobStep Requeue(SqliteConnection connection, long id, ClaimState current, ChangeCause cause)
    {
        if (ComesBackToLife(current) && current.OutputName is { } name && LiveHolderOf(connection, name) is not null)
            return JobStep.Taken(Get(connection, id)!);
        var job = connection.QuerySingle<Job>(SharedJobSql.Requeue, new { id });
        return JobStep.Changed(current.Status, job, cause);
    }
}
