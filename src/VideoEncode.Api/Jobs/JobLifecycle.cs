using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Quotas;
using VideoEncode.Api.Schedules;
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
    private readonly JobTaskSteps<TConnection> taskSteps = new(driver);

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

            // A plain job names its output; a job made of tasks names each task's (JobShape), by the same rules.
            var shapes = jobs.Select(job => job.HasTasks ? JobShape.TasksOf(job) : null).ToList();
            var named = NamedOutputs(jobs, shapes);
            // Requests wanting the same names take turns, so two hosts never both find "a.mp4" free.
            await driver.LockNamesAsync(connection, named.Select(item => item.Output.OutputName ?? FileNames.DefaultOutputName(item.Output.FileName, item.Output.Settings.Container)).ToList());
            var naming = new OutputNaming(named.Select(item => item.Output).ToList());
            for (var names = naming.ToLookUp(); names.Count > 0; names = naming.ToLookUp())
                naming.Found(await driver.HeldNamesAsync(connection, names));
            if (naming.Clash is var (index, name)) return Enqueued.OutputTaken(named[index].Job, name);

            // Last of the checks, as it counts the jobs to the key when they fit (the count commits with them).
            if (createdBy is not null && await QuotaBook.ChargeAsync(connection, createdBy, jobs.Count, now, Settings.QuotaResetHour, driver.LockRows) is { } overQuota)
                return Enqueued.OverQuota(overQuota);
            var settings = SettingsColumn(jobs);
            var inserts = new JobToInsert[jobs.Count];
            for (var i = 0; i < jobs.Count; i++)
                inserts[i] = new JobToInsert(jobs[i], shapes[i] is null ? naming.Names[named.FindIndex(item => item.Job == i)] : "",
                    jobs[i].UploadId is { } id ? uploads[id] : null, settings[i]);
            var created = await driver.InsertAsync(connection, inserts, createdBy, now);
            var taskChanges = new List<JobChange>();
            for (var i = 0; i < jobs.Count; i++)
            {
                if (shapes[i] is not { } tasks) continue;
                var taskNames = TaskNames(tasks, named, naming.Names, i);
                var (job, made) = await taskSteps.CreateAsync(connection, created[i], tasks, taskNames, now);
                created[i] = job;
                taskChanges.AddRange(made.Select(task => JobChange.Moved(null, task, ChangeCause.Enqueue)));
            }
            if (sources.Count > 0)
                await driver.RememberSourcesAsync(connection, sources.Select(item => (item.Source, created[item.Index].Id)).ToList(), now);
            if (key is not null)
                await connection.ExecuteAsync(SharedJobSql.RememberRequest,
                    new { key = key.Key, hash = key.RequestHash, ids = string.Join(',', created.Select(job => job.Id)), now });
            return Enqueued.Created(created, taskChanges);
        }, cancel);
    }

    /// <summary>
    /// The outputs a request names, each as a plain job would be named (<see cref="OutputNaming"/>), with the index of
    /// its job: a plain job's own, and each named task's of a job made of tasks (the thumbnails' follow from the others').
    /// </summary>
    private static List<(int Job, NewJob Output)> NamedOutputs(IReadOnlyList<NewJob> jobs, IReadOnlyList<IReadOnlyList<NewTask>?> shapes)
    {
        var named = new List<(int, NewJob)>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            if (shapes[i] is not { } tasks)
            {
                named.Add((i, jobs[i]));
                continue;
            }
            foreach (var task in tasks.Where(task => task.Named && task.Spec.Kind != TaskKinds.Thumbnails))
                named.Add((i, jobs[i] with { Settings = task.Settings, OutputName = task.OutputName, Outputs = null }));
        }
        return named;
    }

    /// <summary>Each task's name, in the order of <paramref name="tasks"/>: as named, the thumbnails' beside the first output, none for a plan.</summary>
    private static List<string?> TaskNames(IReadOnlyList<NewTask> tasks, List<(int Job, NewJob Output)> named, IReadOnlyList<string> names, int job)
    {
        var given = named.Select((item, at) => (item.Job, Name: names[at])).Where(item => item.Job == job).Select(item => item.Name).ToList();
        var result = new List<string?>(tasks.Count);
        var next = 0;
        foreach (var task in tasks)
            result.Add(task.Named && task.Spec.Kind != TaskKinds.Thumbnails ? given[next++] : null);
        for (var i = 0; i < tasks.Count; i++)
            if (tasks[i].Spec.Kind == TaskKinds.Thumbnails) result[i] = JobShape.NameThumbnails(tasks, result);
        return result;
    }

    private static StepRefusal? PlanRefusal(string? taskKind, FinishReport? report) => taskKind == TaskKinds.Plan && report?.Plan is null
        ? new StepRefusal("plan", "A plan task's finish must carry its plan: {\"plan\": {\"chunks\": [{\"start_seconds\", \"end_seconds\", \"frames\"}, …]}}.")
        : null;

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
        return CommitAsync(async connection =>
        {
            // Outside the queue's schedule or the worker's, no job and no task: only a drain is told first, so the worker stops.
            if (await ScheduleBook.ClosedUntilAsync(connection, claim.Worker, DateTimeOffset.FromUnixTimeSeconds(terms.Now)) is (true, var opensAt))
                return (await driver.WhyNoClaimAsync(connection, claim.Worker, terms.Now)).Draining
                    ? JobStep.Draining
                    : JobStep.OutsideSchedule(opensAt?.ToUnixTimeSeconds());
            return await driver.ClaimAsync(connection, terms) is { } job
                ? JobStep.Changed(JobState.Pending, job.Task?.Kind == TaskKinds.Join ? await taskSteps.WithPartsAsync(connection, job) : job, cause)
                : JobStep.NoClaim(await driver.WhyNoClaimAsync(connection, claim.Worker, terms.Now));
        }, cancel);
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
                && ((gate.Gated ? GateRefusal(gate.Settings, report) : null) ?? PlanRefusal(gate.TaskKind, report)) is { } refusal)
                return JobStep.Refused(refusal);
            if (await driver.FinishAsync(connection, id, report, now) is { } job)
            {
                var finished = JobStep.Changed(JobState.InProgress, job, ChangeCause.Finish);
                return job.Task?.Kind == TaskKinds.Plan
                    ? finished with { Changes = [.. finished.Changes, .. await taskSteps.AfterPlanAsync(connection, job, report!.Plan!, now)] }
                    : finished;
            }
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
            // A task moves with its job: a person acts on the job.
            if (current.IsTask) return JobStep.Wrong((await GetAsync(connection, id))!);
            var verdict = JobTransitions.Decide(action, current.State, current.CancelRequested, bulk: false);
            if (verdict.Move is not { } move)
                return verdict.AlreadySo ? JobStep.Done((await GetAsync(connection, id))!) : JobStep.Wrong((await GetAsync(connection, id))!);
            if (JobTransitions.Revives(move, current.State) && current.OutputName is { } name)
            {
                await driver.LockNamesAsync(connection, [name]);
                if ((await driver.HeldNamesAsync(connection, [name])).Count > 0) return JobStep.Taken((await GetAsync(connection, id))!);
            }
            if (current.HasTasks && JobTransitions.Revives(move, current.State) && await TaskNameTakenAsync(connection, id)) return JobStep.Taken((await GetAsync(connection, id))!);
            // A job made of tasks: its tasks first, so a delete finds none left and the sum is the tasks' as they now are.
            var carried = current.HasTasks ? await taskSteps.CarryAsync(connection, action, [id], now) : [];
            var job = await connection.QuerySingleAsync<Job>(SharedJobSql.Bulk(move, "id = @id"), new { id, now, step = (string?)null });
            var change = Change(action, move, current.State, job);
            if (!current.HasTasks || move == JobMove.Delete) return JobStep.Done(job, [.. carried, change]);
            var summed = await taskSteps.RollUpAsync(connection, [id], now);
            return JobStep.Done((await GetAsync(connection, id))!, [.. carried, change, .. summed]);
        }, cancel, actor);

    /// <summary>Whether a live job holds the output name of a task of job <paramref name="id"/> that a requeue would bring back.</summary>
    private async Task<bool> TaskNameTakenAsync(TConnection connection, long id)
    {
        var names = (await taskSteps.ReadAsync(connection, id))
            .Where(task => task.IsOutput && task.OutputName is not null && JobTransitions.HasEnded(task.State))
            .Select(task => task.OutputName!).ToList();
        if (names.Count == 0) return false;
        await driver.LockNamesAsync(connection, names);
        return (await driver.HeldNamesAsync(connection, names)).Count > 0;
    }

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
            var parents = changes.Where(change => change.Job.HasTasks).Select(change => change.Job.Id).ToList();
            if (parents.Count > 0)
            {
                changes.AddRange(await taskSteps.CarryAsync(connection, action, parents, now));
                if (action != JobAction.Delete) changes.AddRange(await taskSteps.RollUpAsync(connection, parents, now));
            }
            var changed = changes.Where(change => change.Job.Task is null).Select(change => change.Job.Id).Distinct().OrderDescending().ToList();
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
                $"SELECT id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM jobs WHERE {driver.InIds} AND parent_id IS NULL ORDER BY id DESC {driver.LockRows}",
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

    public async Task<JobTasksView?> TasksAsync(long id)
    {
        await using var connection = await driver.OpenReadAsync();
        if (await GetAsync(connection, id) is not { } job) return null;
        var tasks = job.HasTasks ? await taskSteps.ReadAsync(connection, id) : [];
        return new JobTasksView(tasks.Select(task => task.Line()).ToList(), tasks.Where(task => task.IsOutput).Select(task => task.Output()).ToList());
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
        var (result, changes) = await driver.WriteAsync(async connection =>
        {
            var result = await step(connection);
            IReadOnlyList<JobChange> changes = result.Changes;
            // A change to a task changes what its job sums up to: the job follows in the same transaction.
            if (changes.Any(change => change.Job.Task is not null))
                changes = [.. changes, .. await taskSteps.RollUpAsync(connection, changes.Where(change => change.Job.Task is not null).Select(change => change.Job.Task!.JobId), Now)];
            // A job that finished (itself, or its last task) counts its input's duration to the key that enqueued it.
            var finished = changes.Where(change => change.Job.Task is null && change.To == JobState.Finished && change.From != JobState.Finished)
                .Select(change => change.Job.Id).ToList();
            if (finished.Count > 0) await QuotaBook.CountEncodedAsync(connection, driver.InIds, driver.Ids(finished), Now, Settings.QuotaResetHour);
            // The journal (audit, webhooks) is about jobs; a task's changes show in its job's.
            await journal.RecordAsync(connection, changes.Where(change => change.Job.Task is null).ToList(), actor, Now);
            await driver.ShareAsync(connection, changes);
            return (result, changes);
        }, cancel);
        driver.Committed(changes);
        sink.Publish(changes);
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

/// <summary>
/// A running job's settings as <see cref="SharedJobSql.RunningGate"/> reads them: null for the original service's encode, which
/// has no gate; and its task's kind, if it is one (a plan's finish must carry its plan).
/// </summary>
internal sealed class RunningGate
{
    public EncodeSettings? Settings { get; init; }
    public string? TaskKind { get; init; }

    /// <summary>Whether the run's result is held to the gate: a plain job's, an output's and a join's; a part (plan, chunk, audio), a ladder or thumbnails are not what the gate measures.</summary>
    public bool Gated => TaskKind is null or TaskKinds.Encode or TaskKinds.Join;
}
