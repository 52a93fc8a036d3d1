using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Uploads;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Every step of a job, written once for both databases (see <see cref="IJobStore"/> for what each
/// promises). Each step reads the job's state, decides with <see cref="JobTransitions"/>, writes, and
/// records what must commit with the change (<see cref="ChangeJournal"/>) in one write of the store's
/// driver (<see cref="IQueueDriver{TConnection}"/>: SQLite's single writer, or a PostgreSQL
/// transaction whose steps lock the job's row first); once committed, the changes go to
/// <see cref="JobChangeSink"/>. A worker's own steps keep their step on the row, so repeating one that
/// landed is recognised and answered with the job. Reads use their own connections.
/// </summary>
internal sealed class JobLifecycle<TConnection>(IQueueDriver<TConnection> driver, TimeProvider clock, IOptions<QueueOptions> options,
    JobChangeSink sink, ChangeJournal journal) : IJobStore where TConnection : DbConnection
{
    private QueueOptions Settings => options.Value;

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public Task<Enqueued> CreateAsync(IReadOnlyList<NewJob> jobs, IdempotencyKey? key, string? createdBy, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(async connection =>
        {
            if (key is not null)
            {
                // Two requests with one key take turns, so the second sees what the first stored.
                await driver.LockRequestKeyAsync(connection, key.Key);
                var seen = await connection.QuerySingleOrDefaultAsync<RememberedRequest>(
                    "SELECT request_hash AS requesthash, job_ids AS jobids FROM idempotency_keys WHERE key = @key AND created_at > @since",
                    new { key = key.Key, since = now - (long)IdempotencyWindow.TotalSeconds });
                if (seen is not null)
                    return seen.RequestHash == key.RequestHash
                        ? Enqueued.Replayed((await connection.QueryAsync<Job>($"SELECT {Columns} FROM jobs WHERE {driver.InIds} ORDER BY id",
                            new { ids = driver.Ids(seen.Ids) })).AsList())
                        : Enqueued.KeyReused;
            }

            var sources = WatchedFiles.Of(jobs);
            if (sources.Count > 0 && await driver.FirstSeenSourceAsync(connection, sources) is var (sourceIndex, source, seenAs))
                return Enqueued.SourceSeen(sourceIndex, source.Path, seenAs);

            var uploadIds = StoredInputs.Named(jobs);
            var (attached, uploads, unusable) = StoredInputs.Attach(jobs, uploadIds.Length == 0 ? [] : await connection.QueryAsync<StoredInput>(
                StoredInputs.Lookup(driver.InIds), new { ids = driver.Ids(uploadIds), keepuntil = now + UploadCreation.ExpirySeconds(Settings) }));
            if (unusable is var (badIndex, problem)) return Enqueued.UploadMissing(badIndex, problem);
            jobs = attached;

            // Requests wanting the same names take turns, so two hosts never both find "a.mp4" free.
            await driver.LockNamesAsync(connection, jobs.Select(job => job.OutputName ?? FileNames.DefaultOutputName(job.FileName, job.Settings.Container)).ToList());
            var naming = new OutputNaming(jobs);
            for (var names = naming.ToLookUp(); names.Count > 0; names = naming.ToLookUp())
                naming.Found(await driver.HeldNamesAsync(connection, names));
            if (naming.Clash is var (index, name)) return Enqueued.OutputTaken(index, name);

            var settings = SettingsColumn(jobs);
            var inserts = new JobToInsert[jobs.Count];
            for (var i = 0; i < jobs.Count; i++)
                inserts[i] = new JobToInsert(jobs[i], naming.Names[i], jobs[i].UploadId is { } id ? uploads[id] : null, settings[i]);
            var created = await driver.InsertAsync(connection, inserts, createdBy, now);
            if (sources.Count > 0)
                await driver.RememberSourcesAsync(connection, sources.Select(item => (item.Source, created[item.Index].Id)).ToList(), now);
            if (key is not null)
                await connection.ExecuteAsync(SharedJobSql.RememberRequest,
                    new { key = key.Key, hash = key.RequestHash, ids = string.Join(',', created.Select(job => job.Id)), now });
            return Enqueued.Created(created);
        }, cancel);
    }

    private static string?[] SettingsColumn(IReadOnlyList<NewJob> jobs) =>
        Database.DapperSetup.SettingsColumn.WriteEach(jobs.Select(job => job.Settings).ToList());

    /// <summary>
    /// A single atomic statement (<see cref="IQueueDriver{TConnection}.ClaimAsync"/>): the row taken is the row
    /// returned, so two claimers never receive the same job.
    /// </summary>
    public Task<JobStep> ClaimAsync(ClaimRequest claim, bool legacyClient, CancellationToken cancel)
    {
        var terms = new ClaimTerms(claim, NewClaimToken(), Now, legacyClient ? Settings.LegacyLeaseSeconds : Settings.LeaseSeconds);
        var cause = legacyClient ? ChangeCause.LegacyClaim : ChangeCause.Claim;
        return CommitAsync(async connection => await driver.ClaimAsync(connection, terms) is { } job
            ? JobStep.Changed(JobState.Pending, job, cause)
            : JobStep.NoClaim(await driver.WhyNoClaimAsync(connection, claim.Worker)), cancel);
    }

    public Task<JobStep> HeartbeatAsync(long id, Heartbeat report, CancellationToken cancel)
    {
        var now = Now;
        var lease = Settings.LeaseSeconds;
        return CommitAsync(async connection =>
        {
            var (job, drain) = await driver.HeartbeatAsync(connection, id, report, now, lease);
            if (job is null) return await RepeatedAsync(connection, id, report.ClaimToken, step: null);
            // The change carries the job as every reader sees it; only the worker's answer says drain.
            return JobStep.Done(drain ? job with { Drain = true } : job, JobChange.Same(job, ChangeCause.Heartbeat));
        }, cancel);
    }

    public Task SaveProgressAsync(IReadOnlyList<HeldProgress> progress) => driver.SaveProgressAsync(progress);

    public Task<JobStep> FinishAsync(long id, FinishReport? report, CancellationToken cancel)
    {
        var now = Now;
        return CommitAsync(async connection =>
        {
            // Not running: no gate to hold it to, and the finish's usual answers below (a repeat, 404, 409).
            if (await connection.QuerySingleOrDefaultAsync<RunningGate>(SharedJobSql.RunningGate, new { id }) is { } gate
                && GateRefusal(gate.Settings, report) is { } refusal)
                return JobStep.Refused(refusal);
            if (await driver.FinishAsync(connection, id, report, now) is { } job) return JobStep.Changed(JobState.InProgress, job, ChangeCause.Finish);
            var token = report?.ClaimToken;
            return await connection.ExecuteScalarAsync<long>(SharedJobSql.ResultMissing,
                    new { id, token, upload = report?.OutputUploadId, result = report?.Result }) > 0
                ? JobStep.ResultMissing
                : await RepeatedAsync(connection, id, token, WorkerStep.Finish);
        }, cancel);
    }

    public Task<JobStep> FailAsync(long id, FailureReport report, CancellationToken cancel) =>
        CommitAsync(async connection =>
        {
            var current = await driver.ClaimStateAsync(connection, id, RowLock.Running);
            // After the read (and its lock): the backoff must start when the failure is recorded, not when it was sent.
            var now = Now;
            if (!JobTransitions.HoldsClaim(current, report.ClaimToken))
                return await RepeatedAsync(connection, id, report.ClaimToken, JobTransitions.FailStep(report));
            var outcome = JobTransitions.Fail(report, current!, Settings.RetryBackoffSeconds);
            if (outcome.To == JobState.Cancelled)
                return JobStep.Changed(JobState.InProgress, await EndAsCancelledAsync(connection, id, now, outcome.Step), ChangeCause.Cancel);
            var job = await driver.FailAsync(connection, SharedJobSql.FailParameters(id, now, outcome, report));
            return JobStep.Changed(JobState.InProgress, job, outcome.Retry ? ChangeCause.RetryableFail : ChangeCause.Fail);
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
            var current = await driver.ClaimStateAsync(connection, id, RowLock.Running);
            if (!JobTransitions.HoldsClaim(current, token)) return await RepeatedAsync(connection, id, token, WorkerStep.Release);
            if (JobTransitions.GiveBack(current!.CancelRequested) == JobState.Cancelled)
                return JobStep.Changed(JobState.InProgress, await EndAsCancelledAsync(connection, id, now, WorkerStep.Release), ChangeCause.Cancel);
            var job = await connection.QuerySingleAsync<Job>(SharedJobSql.GiveBack, new { id });
            return JobStep.Changed(JobState.InProgress, job, cause);
        }, cancel);
    }

    public Task<JobStep> CancelAsync(long id, string? token, string? actor, CancellationToken cancel)
    {
        var now = Now;
        if (token is not null)
            // The worker's acknowledgement of a cancel: fenced by its claim, and no person's action.
            return CommitAsync(async connection =>
                JobTransitions.HoldsClaim(await driver.ClaimStateAsync(connection, id, RowLock.Job), token)
                    ? JobStep.Changed(JobState.InProgress, await EndAsCancelledAsync(connection, id, now, WorkerStep.Cancel), ChangeCause.Cancel)
                    : await RepeatedAsync(connection, id, token, WorkerStep.Cancel), cancel);
        return ActAsync(JobAction.Cancel, id, actor, now, cancel);
    }

    public Task<JobStep> RetryAsync(long id, string actor, CancellationToken cancel) => ActAsync(JobAction.Retry, id, actor, Now, cancel);

    public Task<JobStep> ResetAsync(long id, string actor, CancellationToken cancel) => ActAsync(JobAction.Reset, id, actor, Now, cancel);

    public Task<JobStep> DeleteAsync(long id, string actor, CancellationToken cancel) => ActAsync(JobAction.Delete, id, actor, Now, cancel);

    /// <summary>A person's action on one job: its move as <see cref="JobTransitions.Decide"/> says, recorded in the audit trail under <paramref name="actor"/>.</summary>
    private Task<JobStep> ActAsync(JobAction action, long id, string? actor, long now, CancellationToken cancel) =>
        CommitAsync(async connection =>
        {
            var current = await driver.ClaimStateAsync(connection, id, RowLock.Job);
            if (current is null) return JobStep.NotFound;
            var verdict = JobTransitions.Decide(action, current.State, current.CancelRequested, bulk: false);
            if (verdict.Move is not { } move)
                return verdict.AlreadySo ? JobStep.Done((await GetAsync(connection, id))!) : JobStep.Wrong((await GetAsync(connection, id))!);
            if (JobTransitions.Revives(move, current.State) && current.OutputName is { } name)
            {
                await driver.LockNamesAsync(connection, [name]);
                if ((await driver.HeldNamesAsync(connection, [name])).Count > 0) return JobStep.Taken((await GetAsync(connection, id))!);
            }
            var job = await connection.QuerySingleAsync<Job>(SharedJobSql.Bulk(move, "id = @id"), new { id, now, step = (string?)null });
            return JobStep.Done(job, Change(action, move, current.State, job));
        }, cancel, actor);

    /// <summary>The change a move made to one job, as every route announces it.</summary>
    private static JobChange Change(JobAction action, JobMove move, JobState from, Job job) => move switch
    {
        JobMove.Delete => JobChange.Deleted(job),
        JobMove.RequestCancel => JobChange.Same(job, ChangeCause.CancelRequest),
        JobMove.EndAsCancelled => JobChange.Moved(from, job, ChangeCause.Cancel),
        _ => JobChange.Moved(from, job, action == JobAction.Retry ? ChangeCause.Retry : ChangeCause.Reset),
    };

    public async Task<int> ExpireLeasesAsync()
    {
        var now = Now;
        var expired = await CommitAsync(async connection => new ChangeSet((await connection.QueryAsync<Job>(SharedJobSql.ExpireLeases, new { now }))
            .Select(job => JobChange.Moved(JobState.InProgress, job, ChangeCause.LeaseExpiry)).ToList()), CancellationToken.None);
        return expired.Changes.Count;
    }

    public async Task<int> BackoffsEndedAsync(long after, long upTo)
    {
        await using var connection = await driver.OpenReadAsync();
        return await connection.QuerySingleAsync<int>(SharedJobSql.BackoffsEnded, new { after, upto = upTo });
    }

    public Task ForgetOldRecordsAsync() => driver.ForgetOldRecordsAsync(Now - (long)IdempotencyWindow.TotalSeconds);

    public Task<int> DeleteEndedAsync(long endedBefore, int limit) => driver.DeleteEndedAsync(endedBefore, limit);

    public Task ReclaimSpaceAsync() => driver.ReclaimSpaceAsync();

    /// <summary>
    /// One transaction (<see cref="BulkRules"/>): reads the jobs (locked where the store locks rows), judges
    /// each with <see cref="JobTransitions.Decide"/>, takes the output names a requeue revives as a single
    /// requeue does, and runs each move once over all the jobs it applies to.
    /// </summary>
    public Task<BulkResult> BulkAsync(JobAction action, BulkTarget target, string actor, CancellationToken cancel)
    {
        var now = Now;
        // No actor for the journal: the audit trail gets one entry for the whole action, written here.
        return CommitAsync(async connection =>
        {
            var (candidates, more) = await BulkCandidatesAsync(connection, target);
            var names = BulkRules.NamesToCheck(action, candidates);
            IReadOnlyCollection<string> held = [];
            if (names.Count > 0)
            {
                await driver.LockNamesAsync(connection, names);
                held = await driver.HeldNamesAsync(connection, names);
            }
            var (moves, skipped) = BulkRules.Judge(action, candidates, target.Ids, held);
            var before = candidates.ToDictionary(job => job.Id, job => job.State);
            var changes = new List<JobChange>(moves.Count);
            foreach (var group in moves.GroupBy(item => item.Move))
                foreach (var job in await connection.QueryAsync<Job>(SharedJobSql.Bulk(group.Key, driver.InIds),
                             new { ids = driver.Ids(group.Select(item => item.Id)), now, step = (string?)null }))
                    changes.Add(Change(action, group.Key, before[job.Id], job));
            var changed = changes.Select(change => change.Job.Id).OrderDescending().ToList();
            if (changed.Count > 0)
                await AuditTrail.RecordAsync(connection, now, actor, BulkRules.AuditAction(action), "bulk", BulkRules.AuditDetail(target, changed, skipped.Count));
            return new BulkResult(changes, changed, skipped, more);
        }, cancel);
    }

    /// <summary>The jobs named, or the newest <see cref="BulkRules.MaxJobs"/> the filter matches, and whether it matched more.</summary>
    private async Task<(IReadOnlyList<BulkCandidate> Jobs, bool More)> BulkCandidatesAsync(TConnection connection, BulkTarget target)
    {
        if (target.Ids is { } asked)
            return ((await connection.QueryAsync<BulkCandidate>(
                $"SELECT id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM jobs WHERE {driver.InIds} ORDER BY id DESC {driver.LockRows}",
                new { ids = driver.Ids(asked) })).AsList(), false);
        var (sql, parameters) = driver.Select(target.Filter!).Candidates(BulkRules.MaxJobs + 1, driver.LockRows);
        var found = (await connection.QueryAsync<BulkCandidate>(sql, parameters)).AsList();
        return found.Count > BulkRules.MaxJobs ? (found.Take(BulkRules.MaxJobs).ToList(), true) : (found, false);
    }

    public async Task<Job?> GetAsync(long id)
    {
        await using var connection = await driver.OpenReadAsync();
        return await GetAsync(connection, id);
    }

    /// <summary>Newest first, filtered by status (an index range scan on (status, id)) and the store's search, keyset-paged by before_id when asked.</summary>
    public async Task<IReadOnlyList<Job>> ListAsync(JobListQuery query)
    {
        await using var connection = await driver.OpenReadAsync();
        var (sql, parameters) = driver.Select(query.Filter).List(query);
        return (await connection.QueryAsync<Job>(sql, parameters)).AsList();
    }

    /// <summary>
    /// Runs a step in one write of the driver, with what must commit beside its changes (<see cref="ChangeJournal"/>;
    /// <paramref name="actor"/> names the key of a person's action) and, on a shared store, the changes for the
    /// other hosts; once committed, publishes the changes.
    /// </summary>
    private async Task<T> CommitAsync<T>(Func<TConnection, ValueTask<T>> step, CancellationToken cancel, string? actor = null) where T : IChangeSet
    {
        var result = await driver.WriteAsync(async connection =>
        {
            var result = await step(connection);
            await journal.RecordAsync(connection, result.Changes, actor, Now);
            await driver.ShareAsync(connection, result.Changes);
            return result;
        }, cancel);
        driver.Committed(result.Changes);
        sink.Publish(result.Changes);
        return result;
    }

    private sealed record ChangeSet(IReadOnlyList<JobChange> Changes) : IChangeSet;

    private static Task<Job?> GetAsync(TConnection connection, long id) =>
        connection.QuerySingleOrDefaultAsync<Job>(SharedJobSql.SelectJob, new { id });

    /// <summary>
    /// A worker's step that did not apply: a repeat of the claim's last step (answered with the job), or
    /// refused. Judged without a lock: nothing is written, and a pending job stays visible to claims.
    /// </summary>
    private async ValueTask<JobStep> RepeatedAsync(TConnection connection, long id, string? token, WorkerStep? step) =>
        JobTransitions.JudgeRepeat(await driver.ClaimStateAsync(connection, id, RowLock.None), token, step) switch
        {
            StepOutcome.Done => JobStep.Done((await GetAsync(connection, id))!),
            StepOutcome.StaleClaim => JobStep.Stale((await GetAsync(connection, id))!),
            var refused => new JobStep(refused, null, []),
        };

    /// <summary>Ends a job cancelled; <paramref name="step"/> is the worker's step that ended it.</summary>
    private static Task<Job> EndAsCancelledAsync(TConnection connection, long id, long now, WorkerStep step) =>
        connection.QuerySingleAsync<Job>(SharedJobSql.EndAsCancelled, new { id, now, step = WorkerSteps.Stored(step) });
}

/// <summary>A running job's settings as <see cref="SharedJobSql.RunningGate"/> reads them: null for the original service's encode, which has no gate.</summary>
internal sealed class RunningGate
{
    public EncodeSettings? Settings { get; init; }
}
