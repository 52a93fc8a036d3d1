using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using VideoEncode.Api.Changes;
using static VideoEncode.Api.Database.DapperSetup;
using VideoEncode.Api.Cluster;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The jobs on PostgreSQL, shared by any number of hosts (see <see cref="IJobStore"/> for what each
/// method promises). Every write is one transaction (<see cref="PostgresDatabase.WriteAsync"/>):
/// a step on a job first locks its row (SELECT … FOR UPDATE), so two steps on one job — from two
/// hosts, say — take turns, and a claim skips rows other claims are taking (FOR UPDATE SKIP LOCKED),
/// so concurrent claims never wait for each other nor get the same job. The changes a write made
/// are stored in the same transaction (<see cref="SharedChangeFeed.RecordAsync"/>), for every
/// host's event stream, and published locally after the commit.
/// </summary>
public sealed partial class PostgresJobStore(PostgresDatabase database, TimeProvider clock, IOptions<QueueOptions> options,
    JobChangeSink sink, SharedChangeFeed feed, HostIdentity host, ChangeJournal journal) : IJobStore
{
    private QueueOptions Settings => options.Value;

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public async Task<Enqueued> CreateAsync(IReadOnlyList<NewJob> jobs, IdempotencyKey? key, string? createdBy, CancellationToken cancel)
    {
        var now = Now;
        return await CommitAsync(async connection =>
        {
            if (key is not null)
            {
                // Two requests with one key take turns, so the second sees what the first stored.
                await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@Key, 0))", new { key.Key });
                var seen = await connection.QuerySingleOrDefaultAsync<RememberedRequest>(
                    "SELECT request_hash AS requesthash, job_ids AS jobids FROM idempotency_keys WHERE key = @Key AND created_at > @since",
                    new { key.Key, since = now - (long)IdempotencyWindow.TotalSeconds });
                if (seen is not null)
                    return seen.RequestHash == key.RequestHash
                        ? Enqueued.Replayed((await connection.QueryAsync<Job>($"SELECT {Columns} FROM jobs WHERE id = ANY(@Ids) ORDER BY id",
                            new { seen.Ids })).AsList())
                        : Enqueued.KeyReused;
            }

            var sources = WatchedFiles.Of(jobs);
            if (sources.Count > 0 && await FirstSeenSourceAsync(connection, sources) is { } enqueuedBefore) return enqueuedBefore;

            var uploadIds = StoredInputs.Named(jobs);
            var (attached, uploads, unusable) = StoredInputs.Attach(jobs,
                uploadIds.Length == 0 ? [] : await connection.QueryAsync<StoredInput>(StoredInputs.Lookup("id = ANY(@ids)"), new { ids = uploadIds, keepuntil = now + UploadCreation.ExpirySeconds(Settings) }));
            if (unusable is var (badIndex, problem)) return Enqueued.UploadMissing(badIndex, problem);
            jobs = attached;

            // Requests wanting the same names take turns, so two hosts never both find "a.mp4" free.
            await LockNamesAsync(connection, jobs.Select(job => job.OutputName ?? FileNames.DefaultOutputName(job.FileName, job.Settings.Container)));
            var naming = new OutputNaming(jobs);
            for (var names = naming.ToLookUp(); names.Count > 0; names = naming.ToLookUp())
                naming.Found(await LiveHoldersAsync(connection, names));
            if (naming.Clash is var (index, name)) return Enqueued.OutputTaken(index, name);

            // One statement for the whole request: arrays of the columns, unnested into rows, in request order.
            var created = (await connection.QueryAsync<Job>($"""
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
                files = jobs.Select(job => job.FileName).ToArray(),
                crfs = jobs.Select(job => job.Crf).ToArray(),
                presets = jobs.Select(job => job.Preset).ToArray(),
                priorities = jobs.Select(job => (long)job.Priority).ToArray(),
                maxAttempts = jobs.Select(job => (long)job.MaxAttempts).ToArray(),
                outputs = naming.Names.ToArray(),
                overwrites = jobs.Select(job => job.Overwrite).ToArray(),
                uploads = jobs.Select(job => job.UploadId).ToArray(),
                sha256s = jobs.Select(job => job.UploadId is { } id ? uploads[id].Sha256 : null).ToArray(),
                sizes = jobs.Select(job => job.UploadId is { } id ? uploads[id].Length : (long?)null).ToArray(),
                settings = SettingsColumn.WriteEach(jobs.Select(job => job.Settings).ToList()),
                profiles = jobs.Select(job => job.Profile).ToArray(),
                needs = jobs.Select(job => NeededEncoder(job.Settings)).ToArray(),
            })).OrderBy(job => job.Id).ToList();
            if (sources.Count > 0)
                await connection.ExecuteAsync(WatchedFiles.Remember,
                    sources.Select(item => new { item.Source.Path, item.Source.Size, item.Source.Mtime, jobid = created[item.Index].Id, now }));
            if (key is not null)
                await connection.ExecuteAsync(SharedJobSql.RememberRequest,
                    new { key = key.Key, hash = key.RequestHash, ids = string.Join(',', created.Select(job => job.Id)), now });
            return Enqueued.Created(created);
        }, cancel);
    }

    /// <summary>
    /// The first of the request's sources enqueued before, as the answer; null when none was. The
    /// sources are locked first (an advisory lock per bucket of paths, in bucket order, as output
    /// names are), so two requests for one file take turns and the second sees the first's job.
    /// </summary>
    private static async Task<Enqueued?> FirstSeenSourceAsync(NpgsqlConnection connection, List<(int Index, WatchedFile Source)> sources)
    {
        await connection.ExecuteAsync($"""
            SELECT pg_advisory_xact_lock({WatchedFileLocks}, bucket)
            FROM (SELECT DISTINCT hashtext(path) & {WatchedFileBuckets - 1} AS bucket FROM unnest(@paths) AS path) AS buckets
            ORDER BY bucket
            """, new { paths = sources.Select(item => item.Source.Path).Distinct().ToArray() });
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
            if (seen.TryGetValue(source, out var jobId)) return Enqueued.SourceSeen(index, source.Path, jobId);
        return null;
    }

    /// <summary>The advisory-lock class of watched-file path buckets ("WF").</summary>
    private const int WatchedFileLocks = 0x5746;
    private const int WatchedFileBuckets = 256;

    /// <summary>
    /// Locks output names for the rest of the transaction: an advisory lock per bucket of lowered
    /// names, taken in bucket order so two requests cannot deadlock. Buckets, not names: a 10,000-job
    /// request would otherwise take 10,000 locks and could fill the server's lock table
    /// (max_locks_per_transaction); two requests whose names share a bucket merely take turns. A
    /// default name stands for its numbered forms too.
    /// </summary>
    private static Task LockNamesAsync(NpgsqlConnection connection, IEnumerable<string> names) =>
        connection.ExecuteAsync($"""
            SELECT pg_advisory_xact_lock({OutputNameLocks}, bucket)
            FROM (SELECT DISTINCT hashtext(name) & {OutputNameBuckets - 1} AS bucket FROM unnest(@names) AS name) AS buckets
            ORDER BY bucket
            """, new { names = names.Select(AsciiLower).Distinct().ToArray() });

    /// <summary>The advisory-lock class of output-name buckets (an arbitrary number: "ON").</summary>
    private const int OutputNameLocks = 0x4F4E;
    private const int OutputNameBuckets = 256;

    /// <summary>Of <paramref name="names"/>, those a live job writes (letter case ignored, as the unique index does).</summary>
    private static Task<IEnumerable<string>> LiveHoldersAsync(NpgsqlConnection connection, IEnumerable<string> names) =>
        connection.QueryAsync<string>($"SELECT output_name FROM jobs WHERE lower(output_name COLLATE \"C\") = ANY(@lowered) AND {Live}",
            new { lowered = names.Select(AsciiLower).ToArray() });

    /// <summary>
    /// One UPDATE … RETURNING whose subquery locks the first claimable row that no other claim is
    /// locking right now (SKIP LOCKED), walking the partial claim-order index.
    /// </summary>
    public Task<JobStep> ClaimAsync(ClaimRequest claim, bool legacyClient, CancellationToken cancel)
    {
        var worker = claim.Worker;
        var (_, kind) = SharedJobSql.ClaimSearch(claim);
        var runnable = SharedJobSql.ClaimRunnable(claim, "strpos(@encoders, ',' || needs_encoder || ',') > 0");
        var now = Now;
        var lease = legacyClient ? Settings.LegacyLeaseSeconds : Settings.LeaseSeconds;
        var token = NewClaimToken();
        return CommitAsync(async connection =>
        {
            var job = await connection.QuerySingleOrDefaultAsync<Job>($"""
                WITH claimed AS (
                    UPDATE jobs SET status = 'in_progress', started = @now, claim_token = @token, lease_expires_at = @now + @lease,
                        attempts = attempts + 1, worker = @worker, {ClearRunReport}, cancel_requested = false, claim_step = NULL
                    WHERE id = (SELECT id FROM jobs WHERE status = 'pending' AND {kind} AND {runnable} AND available_at <= @now
                                    AND {SharedJobSql.ClaimAllowed}
                                ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING {Columns}, claim_token),
                seen AS ({SeenClaimer})
                SELECT * FROM claimed
                """, new { now, token, lease = (long)lease, worker, maxinputbytes = claim.MaxInputBytes,
                    encoders = SharedJobSql.EncodersParameter(claim), workerencoders = SharedJobSql.WorkerEncoders(claim) });
            if (job is null)
            {
                var (paused, draining) = await connection.QuerySingleAsync<(long?, long?)>(SharedJobSql.WhyNoClaim, new { worker });
                return JobStep.NoClaim(paused, draining);
            }
            return JobStep.Changed(JobStatus.Pending, job, legacyClient ? ChangeCause.LegacyClaim : ChangeCause.Claim);
        }, cancel);
    }

    /// <summary>
    /// A statement for a WITH clause that notes the named worker of the job in <paramref name="changed"/>
    /// (a claim or heartbeat that landed) as alive, in the same round trip as the step itself; it
    /// returns whether that worker is being drained.
    /// </summary>
    private static string SeenWorker(string changed) => $"""
        INSERT INTO workers (name, last_seen_at, lease_seconds)
        SELECT worker, @now, @lease FROM {changed} WHERE worker IS NOT NULL
        ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds
        RETURNING draining
        """;

    /// <summary>As <see cref="SeenWorker"/> for the job a claim took, keeping the encoders the claim listed (@workerencoders).</summary>
    private const string SeenClaimer = """
        INSERT INTO workers (name, last_seen_at, lease_seconds, encoders)
        SELECT worker, @now, @lease, CAST(@workerencoders AS text) FROM claimed WHERE worker IS NOT NULL
        ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, lease_seconds = excluded.lease_seconds,
            encoders = excluded.encoders
        """;

    /// <summary>A statement for a WITH clause that counts the finished or failed job in <paramref name="ended"/> to its worker.</summary>
    private static string CountForWorker(string ended) => $"""
        UPDATE workers SET jobs_finished = jobs_finished + (ended.status = 'finished')::int,
                           jobs_failed = jobs_failed + (ended.status = 'failed')::int
        FROM {ended} AS ended WHERE workers.name = ended.worker
        """;

    public Task<JobStep> HeartbeatAsync(long id, Heartbeat report, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(async connection =>
        {
            var job = await connection.QuerySingleOrDefaultAsync<Job>($"""
                WITH renewed AS ({SharedJobSql.Heartbeat}), seen AS ({SeenWorker("renewed")})
                SELECT renewed.*, COALESCE((SELECT draining FROM seen), 0) = 1 AS drain FROM renewed
                """, new { id, token = report.ClaimToken, progress = report.Progress, speed = report.Speed, eta = report.EtaSeconds, phase = report.Phase, now,
                    lease = (long)Settings.LeaseSeconds });
            if (job is null) return await RepeatedAsync(connection, id, report.ClaimToken, step: null);
            // The change carries the job as every reader sees it; only the worker's answer says drain.
            return JobStep.Done(job, JobChange.Same(job with { Drain = false }, ChangeCause.Heartbeat));
        }, cancel);
    }

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

    public Task<JobStep> FinishAsync(long id, FinishReport? report, CancellationToken cancel)
    {
        var now = Now;
        var token = report?.ClaimToken;
        var upload = report?.OutputUploadId;
        var result = report?.Result;
        return CommitAsync(async connection =>
        {
            var job = await connection.QuerySingleOrDefaultAsync<Job>($"""
                WITH finished AS ({SharedJobSql.Finish}), counted AS ({CountForWorker("finished")})
                SELECT * FROM finished
                """, new { id, token, now, upload, outputbytes = report?.OutputBytes, inputbytes = report?.InputBytes,
                    commandline = report?.CommandLine, ssim = report?.Ssim, psnr = report?.Psnr, result });
            if (job is null)
                return await connection.ExecuteScalarAsync<long>(SharedJobSql.ResultMissing, new { id, token, upload, result }) > 0
                    ? JobStep.ResultMissing
                    : await RepeatedAsync(connection, id, token, Steps.Finish);
            return JobStep.Changed(JobStatus.InProgress, job, ChangeCause.Finish);
        }, cancel);
    }

    public Task<JobStep> FailAsync(long id, FailureReport report, CancellationToken cancel) =>
        CommitAsync(async connection =>
        {
            var current = await LockRunningAsync(connection, id);
            // After the lock: the backoff must start when the failure is recorded, not when it was sent.
            var now = Now;
            if (!HoldsClaim(current, report.ClaimToken)) return await RepeatedAsync(connection, id, report.ClaimToken, FailStep(report));
            var outcome = Judge(report, current!, Settings.RetryBackoffSeconds);
            if (report.Retryable && current!.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, await EndAsCancelledAsync(connection, id, now, outcome.Step), ChangeCause.Cancel);
            var job = await connection.QuerySingleAsync<Job>($"""
                WITH failed AS ({SharedJobSql.Fail}), counted AS ({CountForWorker("failed")})
                SELECT * FROM failed
                """, SharedJobSql.FailParameters(id, now, outcome, report));
            return JobStep.Changed(JobStatus.InProgress, job, outcome.Retry ? ChangeCause.RetryableFail : ChangeCause.Fail);
        }, cancel);

    public Task<JobStep> ReleaseAsync(long id, string token, CancellationToken cancel) =>
        GiveBackAsync(id, token, ChangeCause.Release, cancel);

    public Task<JobStep> GiveBackUndeliveredClaimAsync(long id, string token) =>
        GiveBackAsync(id, token, ChangeCause.AbandonedClaim, CancellationToken.None);

    private Task<JobStep> GiveBackAsync(long id, string token, ChangeCause cause, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(async connection =>
        {
            var current = await LockRunningAsync(connection, id);
            if (!HoldsClaim(current, token)) return await RepeatedAsync(connection, id, token, Steps.Release);
            if (current!.CancelRequested)
                return JobStep.Changed(JobStatus.InProgress, await EndAsCancelledAsync(connection, id, now, Steps.Release), ChangeCause.Cancel);
            var job = await connection.QuerySingleAsync<Job>(SharedJobSql.GiveBack, new { id });
            return JobStep.Changed(JobStatus.InProgress, job, cause);
        }, cancel);
    }

    public Task<JobStep> CancelAsync(long id, string? token, string? actor, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(async connection =>
        {
            var current = await LockAsync(connection, id);
            if (current is null) return JobStep.NotFound;
            if (token is not null)
                return HoldsClaim(current, token)
                    ? JobStep.Changed(current.Status, await EndAsCancelledAsync(connection, id, now, Steps.Cancel), ChangeCause.Cancel)
                    : await RepeatedAsync(connection, id, token, Steps.Cancel);
            return current.Status switch
            {
                JobStatus.Pending => JobStep.Changed(current.Status, await EndAsCancelledAsync(connection, id, now, step: null), ChangeCause.Cancel),
                JobStatus.InProgress when !current.CancelRequested => await RequestCancelAsync(connection, id),
                JobStatus.InProgress or JobStatus.Cancelled => JobStep.Done((await GetAsync(connection, id))!),
                _ => JobStep.Wrong((await GetAsync(connection, id))!),
            };
        }, cancel, token is null ? actor : null);
    }

    private static async Task<JobStep> RequestCancelAsync(NpgsqlConnection connection, long id)
    {
        var job = await connection.QuerySingleAsync<Job>(SharedJobSql.RequestCancel, new { id });
        return JobStep.Done(job, JobChange.Same(job, ChangeCause.CancelRequest));
    }

    public Task<JobStep> RetryAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(async connection =>
        {
            var current = await LockAsync(connection, id);
            if (current is null) return JobStep.NotFound;
            if (current.Status is not (JobStatus.Failed or JobStatus.Cancelled)) return JobStep.Wrong((await GetAsync(connection, id))!);
            return await RequeueAsync(connection, id, current, ChangeCause.Retry);
        }, cancel, actor);

    public Task<JobStep> ResetAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(async connection =>
        {
            var current = await LockAsync(connection, id);
            return current is null ? JobStep.NotFound : await RequeueAsync(connection, id, current, ChangeCause.Reset);
        }, cancel, actor);

    public Task<JobStep> DeleteAsync(long id, string actor, CancellationToken cancel) =>
        CommitAsync(async connection =>
            await connection.QuerySingleOrDefaultAsync<Job>(SharedJobSql.Delete, new { id }) is { } job
                ? JobStep.Done(job, new JobChange(job, job.Status, JobChange.Deleted, ChangeCause.Delete))
                : JobStep.NotFound, cancel, actor);

    public async Task<int> ExpireLeasesAsync()
    {
        var now = Now;
        var expired = await CommitAsync(async connection => new ChangeSet((await connection.QueryAsync<Job>(SharedJobSql.ExpireLeases, new { now }))
            .Select(job => JobChange.Moved(JobStatus.InProgress, job, ChangeCause.LeaseExpiry)).ToList()), CancellationToken.None);
        return expired.Changes.Count;
    }

    public async Task<int> BackoffsEndedAsync(long after, long upTo)
    {
        await using var connection = await database.OpenAsync();
        return await connection.QuerySingleAsync<int>(SharedJobSql.BackoffsEnded, new { after, upto = upTo });
    }

    public Task ForgetOldRecordsAsync() =>
        database.WriteAsync(async connection =>
        {
            await connection.ExecuteAsync(SharedJobSql.ForgetIdempotencyKeys,
                new { since = Now - (long)IdempotencyWindow.TotalSeconds });
            await SharedChangeFeed.ForgetOldAsync(connection);
            return true;
        });

    public Task<int> DeleteEndedAsync(long endedBefore, int limit) =>
        database.WriteAsync(connection => connection.ExecuteAsync(SharedJobSql.DeleteEnded(indexHints: false), new { before = endedBefore, limit }));

    /// <summary>Nothing to do: autovacuum reuses the space of deleted rows (schema.postgres.sql tunes it for the jobs table).</summary>
    public Task ReclaimSpaceAsync() => Task.CompletedTask;

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = await database.OpenAsync();
        return await GetAsync(connection, id);
    }

    public async Task<IReadOnlyList<Job>> ListAsync(JobListQuery query)
    {
        await using var connection = await database.OpenAsync();
        var (sql, parameters) = Select(query.Filter).List(query);
        return (await connection.QueryAsync<Job>(sql, parameters)).AsList();
    }

    /// <summary>
    /// The jobs <paramref name="filter"/> selects; a search is ILIKE (backslash is its default escape),
    /// which the trigram index (schema step 7, pg_trgm) answers for three or more characters. Shorter
    /// ones scan, as no trigram index can help them.
    /// </summary>
    private static JobSelection Select(JobFilter filter)
    {
        var selection = JobSelection.Jobs(filter);
        return filter.ContainsPattern is { } pattern ? selection.And("file_name ILIKE @like", "like", pattern) : selection;
    }

    /// <summary>
    /// Runs a write in its transaction, with what must commit beside its changes (<see cref="ChangeJournal"/>; <paramref name="actor"/>
    /// names the key of a person's action), stores its changes for every host beside it, and once committed publishes them here.
    /// </summary>
    private async Task<T> CommitAsync<T>(Func<NpgsqlConnection, Task<T>> write, CancellationToken cancel, string? actor = null) where T : IChangeSet
    {
        var result = await database.WriteAsync(async connection =>
        {
            var result = await write(connection);
            await journal.RecordAsync(connection, result.Changes, actor, Now);
            await SharedChangeFeed.RecordAsync(connection, result.Changes, host.Id);
            return result;
        }, cancel);
        if (result.Changes.Count > 0) feed.Committed();
        sink.Publish(result.Changes);
        return result;
    }

    private sealed record ChangeSet(IReadOnlyList<JobChange> Changes) : IChangeSet;

    private static Task<Job?> GetAsync(NpgsqlConnection connection, long id) =>
        connection.QuerySingleOrDefaultAsync<Job>(SharedJobSql.SelectJob, new { id });

    /// <summary>The job's claim state, its row locked until the transaction ends: steps on one job take turns.</summary>
    private static Task<ClaimState?> LockAsync(NpgsqlConnection connection, long id) =>
        connection.QuerySingleOrDefaultAsync<ClaimState>(SharedJobSql.SelectClaimState + " FOR UPDATE", new { id });

    /// <summary>
    /// The claim state of a running job, its row locked; null when the job is not running. A worker's
    /// steps lock only running rows: a claim skips locked rows (SKIP LOCKED), so a step that locked a
    /// pending job — a late fail from a worker whose lease was swept — would hide it from claims for a moment.
    /// </summary>
    private static Task<ClaimState?> LockRunningAsync(NpgsqlConnection connection, long id) =>
        connection.QuerySingleOrDefaultAsync<ClaimState>(SharedJobSql.SelectClaimState + " AND status = 'in_progress' FOR UPDATE", new { id });

    /// <summary>
    /// A worker's step that did not apply: a repeat of the claim's last step (answered with the job), or
    /// refused. Judged without a lock: nothing is written, and a pending job stays visible to claims.
    /// </summary>
    private static async Task<JobStep> RepeatedAsync(NpgsqlConnection connection, long id, string? token, string? step) =>
        JudgeRepeat(await connection.QuerySingleOrDefaultAsync<ClaimState>(SharedJobSql.SelectClaimState, new { id }), token, step) switch
        {
            StepOutcome.Done => JobStep.Done((await GetAsync(connection, id))!),
            StepOutcome.StaleClaim => JobStep.Stale((await GetAsync(connection, id))!),
            var refused => new JobStep(refused, null, []),
        };

    /// <summary>Ends a job cancelled; <paramref name="step"/> is the worker's step that ended it, if one did.</summary>
    private static Task<Job> EndAsCancelledAsync(NpgsqlConnection connection, long id, long now, string? step) =>
        connection.QuerySingleAsync<Job>(SharedJobSql.EndAsCancelled, new { id, now, step });

    /// <summary>Back to pending with a clean slate — unless another live job has taken the job's output_name meanwhile.</summary>
    private static async Task<JobStep> RequeueAsync(NpgsqlConnection connection, long id, ClaimState current, ChangeCause cause)
    {
        if (ComesBackToLife(current) && current.OutputName is { } name)
        {
            await LockNamesAsync(connection, [name]);
            if ((await LiveHoldersAsync(connection, [name])).Any())
                return JobStep.Taken((await GetAsync(connection, id))!);
        }
        var job = await connection.QuerySingleAsync<Job>(SharedJobSql.Requeue, new { id });
        return JobStep.Changed(current.Status, job, cause);
    }
}
