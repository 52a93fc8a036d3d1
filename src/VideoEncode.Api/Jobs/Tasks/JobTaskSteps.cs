using System.Data.Common;
using Dapper;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The writes of jobs made of tasks, inside the lifecycle's steps (<see cref="JobLifecycle{TConnection}"/>), the same
/// on both stores: a job's tasks made, summed up into their job after every change to one of them
/// (<see cref="TaskRollup"/>), a split job's chunks added when its plan finishes, a join told its parts, and a
/// person's action on a job carried to its tasks. A task is a row of jobs whose parent_id is its job, so it is
/// claimed, leased, fenced, retried and given back by exactly the statements a plain job is.
/// </summary>
internal sealed class JobTaskSteps<TConnection>(IQueueDriver<TConnection> driver) where TConnection : DbConnection
{
    /// <summary>A task's row is copied from its job's (input, priority, attempts allowed, key) with its own kind, settings and name.</summary>
    private const string InsertTask = $"""
        INSERT INTO jobs (file_name, crf, preset, status, created_at, priority, max_attempts, output_name, overwrite, created_by,
                          input_upload, input_sha256, input_bytes, settings, profile, needs_encoder, parent_id, task_kind, task, available_at)
        SELECT file_name, @crf, @preset, 'pending', @now, priority, max_attempts, CAST(@outputname AS TEXT), @overwrite, created_by,
               input_upload, input_sha256, input_bytes, CAST(@settings AS TEXT), profile, CAST(@needs AS TEXT), id, @kind, @task, @availableat
        FROM jobs WHERE id = @parent
        RETURNING {Columns}
        """;

    private const string SelectTasks = """
        SELECT id, status, cancel_requested, progress, error, task, worker, attempts, started, available_at, output_name,
               output_upload AS output_upload_id, output_bytes, output_codec, output_height, ssim, psnr
        FROM jobs WHERE parent_id = @id ORDER BY id
        """;

    /// <summary>The tasks of job @id, in order.</summary>
    public async Task<IReadOnlyList<TaskRow>> ReadAsync(DbConnection connection, long id) =>
        (await connection.QueryAsync<TaskRow>(SelectTasks, new { id })).OrderBy(task => task.Task.Index).ToList();

    /// <summary>
    /// Makes <paramref name="job"/> a job made of tasks and adds <paramref name="tasks"/> named <paramref name="names"/>:
    /// answers the job as it now reads and the tasks as created.
    /// </summary>
    public async Task<(Job Job, IReadOnlyList<Job> Tasks)> CreateAsync(TConnection connection, Job job, IReadOnlyList<NewTask> tasks,
        IReadOnlyList<string?> names, long now)
    {
        var marked = await connection.QuerySingleAsync<Job>(
            $"UPDATE jobs SET task_kind = '{Job.MadeOfTasks}', output_name = NULL WHERE id = @id RETURNING {Columns}", new { id = job.Id });
        return (marked, await InsertAsync(connection, job.Id, tasks, names, now));
    }

    private static async Task<IReadOnlyList<Job>> InsertAsync(TConnection connection, long jobId, IReadOnlyList<NewTask> tasks, IReadOnlyList<string?> names, long now)
    {
        var created = new List<Job>(tasks.Count);
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            created.Add(await connection.QuerySingleAsync<Job>(InsertTask, new
            {
                parent = jobId, now, crf = task.Settings.Crf ?? "", preset = task.Settings.Preset ?? "", outputname = names[i], overwrite = task.Overwrite,
                settings = task.Settings.IsLegacy ? null : DapperSetup.SettingsColumn.Write(task.Settings), needs = task.NeedsEncoder,
                kind = task.Spec.Kind, task = DapperSetup.TaskColumn.Write(task.Spec with { JobId = jobId }),
                availableat = task.Waits ? TaskRollup.Waiting : 0,
            }));
        }
        return created;
    }

    /// <summary>A plan that finished: its job's audio and chunks, as the plan cut the input; the join keeps waiting for them.</summary>
    public async Task<IReadOnlyList<JobChange>> AfterPlanAsync(TConnection connection, Job plan, SplitPlan cuts, long now)
    {
        var jobId = plan.Task!.JobId;
        var existing = await ReadAsync(connection, jobId);
        // A plan finished again (a reset job planned anew) replaces the parts of the last plan.
        await connection.ExecuteAsync($"DELETE FROM jobs WHERE parent_id = @id AND task_kind IN ('{TaskKinds.Chunk}', '{TaskKinds.Audio}')", new { id = jobId });
        var tasks = JobShape.AfterPlan(jobId, existing.Max(task => task.Task.Index) + 1, cuts, plan.Settings);
        var created = await InsertAsync(connection, jobId, tasks, tasks.Select(task => task.OutputName).ToList(), now);
        return created.Select(task => JobChange.Moved(null, task, ChangeCause.Enqueue)).ToList();
    }

    /// <summary>A join as its worker gets it: with its parts, the chunks in time order and then the audio.</summary>
    public async Task<Job> WithPartsAsync(TConnection connection, Job join)
    {
        var parts = (await ReadAsync(connection, join.Task!.JobId))
            .Where(task => task.Task.Kind is TaskKinds.Chunk or TaskKinds.Audio)
            .OrderBy(task => task.Task.Kind == TaskKinds.Audio).ThenBy(task => task.Task.StartSeconds)
            .Select(task => new TaskPart(task.Id, task.Task.Kind, task.OutputName ?? "", task.OutputUploadId, task.Task.Frames))
            .ToList();
        return join with { Task = join.Task with { Parts = parts } };
    }

    /// <summary>
    /// After a step changed tasks: each of their jobs takes the state its tasks add up to (<see cref="TaskRollup"/>), the other
    /// tasks of a failed one are cancelled, a join whose parts are ready becomes claimable. The job's row is locked first, so two
    /// tasks ending at once on PostgreSQL take turns and the second sees the first.
    /// </summary>
    public async Task<IReadOnlyList<JobChange>> RollUpAsync(TConnection connection, IEnumerable<long> jobIds, long now)
    {
        var changes = new List<JobChange>();
        foreach (var id in jobIds.Distinct().Order())
        {
            if (await driver.ClaimStateAsync(connection, id, RowLock.Job) is not { HasTasks: true } current) continue;
            var before = await connection.QuerySingleAsync<Job>(SharedJobSql.SelectJob, new { id });
            var tasks = await ReadAsync(connection, id);
            var sum = TaskRollup.Judge(tasks);
            if (sum.CancelPending.Count > 0)
                changes.AddRange((await connection.QueryAsync<Job>(SharedJobSql.Bulk(JobMove.EndAsCancelled, driver.InIds),
                    new { ids = driver.Ids(sum.CancelPending), now, step = (string?)null })).Select(task => JobChange.Moved(JobState.Pending, task, ChangeCause.Cancel)));
            if (sum.CancelRunning.Count > 0)
                changes.AddRange((await connection.QueryAsync<Job>(SharedJobSql.Bulk(JobMove.RequestCancel, driver.InIds),
                    new { ids = driver.Ids(sum.CancelRunning), now, step = (string?)null })).Select(task => JobChange.Same(task, ChangeCause.CancelRequest)));
            if (sum.Ready.Count > 0)
                changes.AddRange((await connection.QueryAsync<Job>($"UPDATE jobs SET available_at = @now WHERE {driver.InIds} AND status = 'pending' RETURNING {Columns}",
                    new { ids = driver.Ids(sum.Ready), now })).Select(task => JobChange.Same(task, ChangeCause.PartsReady)));
            var ended = JobTransitions.HasEnded(sum.State);
            var progress = sum.Progress;
            if (sum.State == current.State && before.Progress == progress && before.Error == sum.Error && !(ended && before.CancelRequested)) continue;
            var after = await connection.QuerySingleAsync<Job>($"""
                UPDATE jobs SET status = @status, progress = @progress, error = @error, started = @started,
                    finished = @finished, output_bytes = @outputbytes, cancel_requested = CASE WHEN @ended THEN FALSE ELSE cancel_requested END
                WHERE id = @id RETURNING {Columns}
                """, new
            {
                id, status = JobStatus.Name(sum.State), progress, error = sum.Error, started = sum.Started, ended, outputbytes = sum.OutputBytes,
                finished = !ended ? null : JobTransitions.HasEnded(current.State) ? before.Finished : now,
            });
            changes.Add(JobChange.Moved(current.State, after, ChangeCause.TasksSummed));
        }
        return changes;
    }

    /// <summary>
    /// A person's action on jobs made of tasks, carried to their tasks: each task moves as the table says it may
    /// (<see cref="JobTransitions.Decide"/>); a delete takes the tasks with the job; a reset plans a split job again (its
    /// audio and chunks go); a join requeued waits for its parts again. The jobs are then summed up by <see cref="RollUpAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<JobChange>> CarryAsync(TConnection connection, JobAction action, IReadOnlyList<long> jobIds, long now)
    {
        var ids = driver.Ids(jobIds);
        if (action == JobAction.Delete)
            return (await connection.QueryAsync<Job>($"DELETE FROM jobs WHERE {driver.InParentIds} RETURNING {Columns}", new { ids }))
                .Select(JobChange.Deleted).ToList();
        var changes = new List<JobChange>();
        if (action == JobAction.Reset)
            changes.AddRange((await connection.QueryAsync<Job>($"""
                DELETE FROM jobs WHERE {driver.InParentIds} AND task_kind IN ('{TaskKinds.Chunk}', '{TaskKinds.Audio}')
                RETURNING {Columns}
                """, new { ids })).Select(JobChange.Deleted));
        var tasks = (await connection.QueryAsync<BulkCandidate>(
            $"SELECT id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM jobs WHERE {driver.InParentIds} {driver.LockRows}",
            new { ids })).AsList();
        var before = tasks.ToDictionary(task => task.Id, task => task.State);
        foreach (var group in tasks.Select(task => (task.Id, JobTransitions.Decide(action, task.State, task.CancelRequested, bulk: true).Move))
                     .Where(item => item.Move is not null).GroupBy(item => item.Move!.Value))
            foreach (var task in await connection.QueryAsync<Job>(SharedJobSql.Bulk(group.Key, driver.InIds),
                         new { ids = driver.Ids(group.Select(item => item.Id)), now, step = (string?)null }))
                changes.Add(group.Key == JobMove.RequestCancel ? JobChange.Same(task, ChangeCause.CancelRequest)
                    : JobChange.Moved(before[task.Id], task, action switch { JobAction.Retry => ChangeCause.Retry, JobAction.Cancel => ChangeCause.Cancel, _ => ChangeCause.Reset }));
        await connection.ExecuteAsync($"""
            UPDATE jobs SET available_at = {TaskRollup.Waiting}
            WHERE {driver.InParentIds} AND task_kind = '{TaskKinds.Join}' AND status = 'pending'
            """, new { ids });
        return changes;
    }
}
