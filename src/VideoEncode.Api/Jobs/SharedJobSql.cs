using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.JobRules;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The job statements both stores run word for word, written in the SQL that SQLite and PostgreSQL
/// both accept (TRUE/FALSE, CAST, CASE rather than MAX/GREATEST). Each store keeps beside its own
/// code the statements it must spell its own way: the claim (an index hint on SQLite, SKIP LOCKED
/// on PostgreSQL), the enqueue, output-name lookups, row locks and the worker bookkeeping.
/// Parameters are named in lower case, as both stores bind them.
/// </summary>
internal static class SharedJobSql
{
    public const string SelectJob = $"SELECT {Columns} FROM jobs WHERE id = @id";

    /// <summary>
    /// The part of a claim's search that holds jobs back on purpose: nothing while the queue is paused (a timed
    /// pause only until its resume_at: past it claims go through, on every host and after a restart, whether or
    /// not the upkeep has cleared it yet; @now), nothing for a worker being drained (@worker; an unnamed claim
    /// cannot be drained). Schedules are judged before the claim (Schedules.ScheduleBook), in C#: time zones. Part of the
    /// claim statement itself, so a claim racing a pause or a drain made on another host is judged by
    /// what was committed when it ran. Both lookups are uncorrelated, so each store evaluates them once
    /// per claim, by primary key.
    /// </summary>
    public const string ClaimAllowed = """
        NOT EXISTS (SELECT 1 FROM queue_state WHERE paused = 1 AND (resume_at IS NULL OR resume_at > @now))
        AND NOT EXISTS (SELECT 1 FROM workers WHERE name = @worker AND draining = 1)
        """;

    /// <summary>
    /// Which pending jobs a claim may take, by where their input lies (<see cref="Contracts.ClaimRequest.Media"/>):
    /// the partial claim-order index its search walks and the condition on top. A store claim walks the
    /// index of store jobs, whose condition the statement repeats word for word so either store uses it;
    /// the others walk the index of all pending jobs. A claim that names no kind takes shared-folder jobs
    /// only, as every client did before the store, stepping over the store jobs ahead (schema.sql step 10
    /// says why they have no index of their own). A store job larger than the room the worker reports
    /// (@maxinputbytes) is passed over.
    /// </summary>
    public static (string Index, string Condition) ClaimSearch(Contracts.ClaimRequest claim) => claim.Media switch
    {
        Contracts.MediaKinds.Store => ("jobs_claim_store", "input_upload IS NOT NULL" + (claim.MaxInputBytes is null ? "" : " AND input_bytes <= @maxinputbytes")),
        Contracts.MediaKinds.Any => ("jobs_claim_order", claim.MaxInputBytes is null ? "TRUE" : "(input_upload IS NULL OR input_bytes <= @maxinputbytes)"),
        _ => ("jobs_claim_order", "input_upload IS NULL"),
    };

    /// <summary>
    /// Which pending jobs a claim can run by the encoders it lists (<see cref="Contracts.ClaimRequest.Encoders"/>),
    /// on top of <see cref="ClaimSearch"/>. jobs.needs_encoder is NULL for a job any worker runs (libx264
    /// from crf and preset): a claim that lists nothing takes only those, one that lists libx264 takes them
    /// too, and the rest need their encoder in the list. The list is bound as ONE parameter, @encoders,
    /// ",a,b," (<see cref="EncodersParameter"/>), which <paramref name="contains"/> — the store's spelling
    /// of "@encoders contains ',' || needs_encoder || ','" (instr on SQLite, strpos on PostgreSQL; not LIKE,
    /// where the "_" of every hardware encoder's name is a wildcard) — searches, so the statement's text
    /// and its parameters stay fixed for SQLite's prepared claim.
    ///
    /// The claim's walk in claim order steps over the jobs it cannot run, as a claim for shared-folder
    /// jobs steps over store jobs: a thousand hevc_nvenc jobs at the head of the queue cost a
    /// libx264-only claim a thousand index entries and row reads before it reaches its job, on every
    /// claim, until a worker that has the encoder takes them (README, Routing by capability; not measured yet).
    /// <see cref="Contracts.ClaimRequest.CanRun"/> says the same in C#, for the claims a job wakes: change both together.
    /// A job made of tasks is never claimed itself (its tasks are), and tasks go only to a worker that runs them
    /// (<see cref="Contracts.ClaimRequest.TakesTasks"/>): every other claim takes plain jobs alone, as before tasks.
    /// </summary>
    public static string ClaimRunnable(Contracts.ClaimRequest claim, string contains) => claim.Encoders switch
    {
        null => "needs_encoder IS NULL",
        var listed when listed.Contains(Contracts.EncoderCatalog.Libx264) => $"(needs_encoder IS NULL OR {contains})",
        _ => contains,
    } + (claim.TakesTasks ? $" AND COALESCE(task_kind, '') <> '{Contracts.Job.MadeOfTasks}'" : " AND task_kind IS NULL");

    /// <summary>The value of @encoders: ",a,b," (null for a claim that lists none, whose statement does not read it).</summary>
    public static string? EncodersParameter(Contracts.ClaimRequest claim) =>
        claim.Encoders is { } listed ? "," + string.Join(",", listed) + "," : null;

    /// <summary>A claim's encoders as workers.encoders keeps them: comma-separated, null when it listed none.</summary>
    public static string? WorkerEncoders(Contracts.ClaimRequest claim) => claim.Encoders is { } listed ? string.Join(",", listed) : null;

    /// <summary>Why a claim found nothing (<see cref="NoClaimFacts"/>): the queue's pause and the worker's drain (false for a worker never seen).</summary>
    public const string WhyNoClaim = """
        SELECT EXISTS (SELECT 1 FROM queue_state WHERE paused = 1 AND (resume_at IS NULL OR resume_at > @now)) AS paused,
               COALESCE((SELECT draining FROM workers WHERE name = @worker) = 1, FALSE) AS draining
        """;

    /// <summary>What a job's steps are judged by (<see cref="ClaimState"/>); PostgreSQL appends FOR UPDATE.</summary>
    public const string SelectClaimState = """
        SELECT status, claim_token AS token, claim_step AS step, cancel_requested, attempts, max_attempts, output_name, parent_id, task_kind
        FROM jobs WHERE id = @id
        """;

    /// <summary>Renews the lease of the claim holding @token and keeps the progress it reports (@progress, @speed, @eta, @phase).</summary>
    public const string Heartbeat = $"""
        UPDATE jobs SET lease_expires_at = @now + @lease, progress = COALESCE(@progress, progress),
            speed = COALESCE(@speed, speed), eta_seconds = COALESCE(@eta, eta_seconds), phase = COALESCE(@phase, phase)
        WHERE id = @id AND status = 'in_progress' AND claim_token = @token
        RETURNING {Columns}
        """;

    /// <summary>A batch write of figures a heartbeat answered from memory brought: only while @token still holds the job.</summary>
    public const string SaveProgress = """
        UPDATE jobs SET progress = @progress, speed = @speed, eta_seconds = @eta, phase = @phase
        WHERE id = @id AND status = 'in_progress' AND claim_token = @token
        """;

    /// <summary>
    /// Finishes the running job held by @token — by anyone when @token is null (the original service's
    /// clients) — keeping the result's upload (@upload) and the sizes: a store job's from its uploads, a
    /// shared-folder job's as its worker reported them (@inputbytes, @outputbytes), and what its quality gate
    /// measured and decided (@ssim, @psnr, @result: <see cref="Contracts.JobResults"/>, encoded when not said).
    /// A store job finishes only with a complete upload of its result (<see cref="ResultMissing"/> tells that
    /// case apart), or with none when the worker kept the original: there is no result file. The ffmpeg
    /// command line it reports (@commandline) replaces the last run's, and so do the input's dynamic range (@hdr) and duration (@inputseconds,
    /// which a quota's encode seconds count); a finish without them keeps them.
    /// </summary>
    public const string Finish = $"""
        UPDATE jobs SET status = 'finished', finished = @now, error = NULL, log_tail = NULL, cancel_requested = FALSE,
            lease_expires_at = NULL, progress = 100, eta_seconds = 0, phase = NULL, claim_step = '{WorkerSteps.Finish}',
            output_upload = CAST(@upload AS TEXT),
            output_bytes = COALESCE((SELECT length FROM uploads WHERE uploads.id = CAST(@upload AS TEXT)), @outputbytes),
            input_bytes = COALESCE(input_bytes, @inputbytes),
            command_line = COALESCE(CAST(@commandline AS TEXT), command_line),
            hdr = COALESCE(CAST(@hdr AS TEXT), hdr),
            output_codec = CAST(@codec AS TEXT), output_height = CAST(@height AS BIGINT),
            input_seconds = COALESCE(CAST(@inputseconds AS DOUBLE PRECISION), input_seconds),
            ssim = @ssim, psnr = @psnr, result = COALESCE(CAST(@result AS TEXT), '{Contracts.JobResults.Encoded}')
        WHERE id = @id AND status = 'in_progress' AND (CAST(@token AS TEXT) IS NULL OR claim_token = @token)
            AND (input_upload IS NULL OR task_kind = '{Contracts.TaskKinds.Plan}' OR CAST(@result AS TEXT) = '{Contracts.JobResults.KeptOriginal}' OR EXISTS (SELECT 1 FROM uploads WHERE uploads.id = CAST(@upload AS TEXT) AND completed_at IS NOT NULL))
        RETURNING {Columns}
        """;

    /// <summary>
    /// The settings of job @id while it runs (no row otherwise), which its finish is held to
    /// (<see cref="JobRules.GateRefusal"/>). A job's settings never change once it is made, so no lock is needed.
    /// </summary>
    public const string RunningGate = "SELECT settings, task_kind FROM jobs WHERE id = @id AND status = 'in_progress'";

    /// <summary>
    /// Asked only when <see cref="Finish"/> changed nothing: whether job @id is a running store job, held
    /// by @token (any claim for an unfenced finish), and @upload is not a complete upload — its finish must
    /// name the upload that holds its result, whole, or there would be nothing to download; unless it kept
    /// the original (@result). Otherwise the finish's usual answers apply (a stale token: 409).
    /// </summary>
    public const string ResultMissing = $"""
        SELECT COUNT(*) FROM jobs WHERE id = @id AND status = 'in_progress' AND input_upload IS NOT NULL AND COALESCE(task_kind, '') <> '{Contracts.TaskKinds.Plan}'
            AND COALESCE(CAST(@result AS TEXT), '') <> '{Contracts.JobResults.KeptOriginal}'
            AND (CAST(@token AS TEXT) IS NULL OR claim_token = @token)
            AND NOT EXISTS (SELECT 1 FROM uploads WHERE uploads.id = CAST(@upload AS TEXT) AND completed_at IS NOT NULL)
        """;

    /// <summary>
    /// Records a failure (<see cref="FailureOutcome"/>): failed for good, or pending again after @backoff seconds,
    /// with the command line that ran, if one did (a failure before ffmpeg keeps the last run's), and the input's dynamic range when the worker probed it. Parameters: <see cref="FailParameters"/>.
    /// </summary>
    public const string Fail = $"""
        UPDATE jobs SET status = @status, error = @error, log_tail = @logtail, lease_expires_at = NULL, claim_step = @step,
            command_line = COALESCE(CAST(@commandline AS TEXT), command_line),
            hdr = COALESCE(CAST(@hdr AS TEXT), hdr),
            started = CASE WHEN @retry THEN NULL ELSE started END,
            finished = CASE WHEN @retry THEN NULL ELSE @now END,
            available_at = CASE WHEN @retry THEN @now + @backoff ELSE available_at END
        WHERE id = @id
        RETURNING {Columns}
        """;

    public static object FailParameters(long id, long now, FailureOutcome outcome, Contracts.FailureReport report) => new
    {
        id, now, retry = outcome.Retry, backoff = outcome.BackoffSeconds, error = outcome.Error, logtail = report.LogTail,
        step = WorkerSteps.Stored(outcome.Step), status = JobStatus.Name(outcome.To), commandline = report.CommandLine, hdr = report.Hdr,
    };

    /// <summary>A claimed job back to pending untouched, the attempt not counted.</summary>
    public const string GiveBack = $"""
        UPDATE jobs SET status = 'pending', started = NULL, lease_expires_at = NULL, claim_step = '{WorkerSteps.Release}',
            attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, {ClearRunReport}, worker = NULL
        WHERE id = @id
        RETURNING {Columns}
        """;

    /// <summary>Ends a job cancelled; @step is the worker's step that ended it, if one did.</summary>
    public const string EndAsCancelled = $"UPDATE jobs SET {EndAsCancelledChanges} WHERE id = @id RETURNING {Columns}";

    private const string EndAsCancelledChanges = $"""
        status = 'cancelled', finished = @now, cancel_requested = FALSE, lease_expires_at = NULL, claim_step = @step, {ClearRunReport}
        """;

    /// <summary>Back to pending with a clean slate: attempts from zero, no backoff, no claim.</summary>
    private const string RequeueChanges = $"""
        status = 'pending', started = NULL, finished = NULL, error = NULL, log_tail = NULL,
            attempts = 0, claim_token = NULL, claim_step = NULL, lease_expires_at = NULL, available_at = 0, cancel_requested = FALSE,
            worker = NULL, {ClearRunReport}
        """;

    /// <summary>
    /// A move (<see cref="JobMove"/>) on every job <paramref name="ids"/> names at once: the statement the
    /// single route runs, over a set. <paramref name="ids"/> is the store's condition on a list of ids in
    /// @ids; an ended cancel records no worker's step (@step null) and its time in @now.
    /// </summary>
    public static string Bulk(JobMove move, string ids) => move switch
    {
        JobMove.Requeue => $"UPDATE jobs SET {RequeueChanges} WHERE {ids} RETURNING {Columns}",
        JobMove.EndAsCancelled => $"UPDATE jobs SET {EndAsCancelledChanges} WHERE {ids} RETURNING {Columns}",
        JobMove.RequestCancel => $"UPDATE jobs SET cancel_requested = TRUE WHERE {ids} RETURNING {Columns}",
        _ => $"DELETE FROM jobs WHERE {ids} RETURNING {Columns}",
    };

    /// <summary>
    /// Ends every lease that lapsed before @now, each job as <see cref="JobTransitions.LeaseLapse"/> decides
    /// from its row's facts (a cancel waiting, its attempts used up): one statement whose every CASE is
    /// generated from that table. An ended job keeps when it started and ends now; one back to pending
    /// starts afresh. A cancelled job keeps its error; the others say why the lease lapsed.
    /// </summary>
    public static readonly string ExpireLeases = $"""
        UPDATE jobs SET
            status = {ByLapse(state => $"'{JobStatus.Name(state)}'")},
            finished = {ByLapse(state => JobTransitions.HasEnded(state) ? "@now" : "NULL")},
            started = {ByLapse(state => JobTransitions.HasEnded(state) ? "started" : "NULL")},
            error = {ByLapse(state => state == JobState.Cancelled ? "error" : LapsedLeaseError)},
            claim_token = NULL, lease_expires_at = NULL, {ClearRunReport}
        WHERE status = 'in_progress' AND lease_expires_at <= @now
        RETURNING {Columns}
        """;

    private const string LapsedLeaseError = """
        'The lease expired: worker ' || COALESCE(worker, '(unnamed)') || ' stopped sending heartbeats (attempt ' || attempts || ' of ' || max_attempts || ').'
        """;

    /// <summary>A CASE over the facts a lapsed lease is judged by, giving each outcome of <see cref="JobTransitions.LeaseLapse"/> its value.</summary>
    private static string ByLapse(Func<JobState, string> value)
    {
        string For(bool cancelRequested, bool usedUp) => value(JobTransitions.LeaseLapse(cancelRequested, usedUp));
        return $"""
            CASE WHEN cancel_requested AND attempts >= max_attempts THEN {For(true, true)} WHEN cancel_requested THEN {For(true, false)}
                 WHEN attempts >= max_attempts THEN {For(false, true)} ELSE {For(false, false)} END
            """;
    }

    /// <summary>How many backed-off jobs became claimable in (@after, @upto], answered from the partial backoff index.</summary>
    public const string BackoffsEnded = """
        SELECT COUNT(*) FROM jobs WHERE status = 'pending' AND available_at > 0 AND available_at > @after AND available_at <= @upto
        """;

    /// <summary>Remembers an Idempotency-Key's request (@key, @hash) and the jobs it created (@ids, comma-separated).</summary>
    public const string RememberRequest = """
        INSERT INTO idempotency_keys (key, request_hash, job_ids, created_at) VALUES (@key, @hash, @ids, @now)
        ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, job_ids = excluded.job_ids, created_at = excluded.created_at
        """;

    public const string ForgetIdempotencyKeys = "DELETE FROM idempotency_keys WHERE created_at <= @since";

    /// <summary>
    /// Deletes at most @limit finished, failed or cancelled jobs that ended before @before (unix seconds):
    /// by <c>finished</c>, which every step that ends a job sets, walking the partial index on it; a
    /// job ended without one (only a hand-edited file has such) by its <c>created_at</c>, through
    /// the partial index that holds only those. The outer conditions repeat the inner ones so that on
    /// PostgreSQL a job retried (back to pending) while the statement waited for its row is re-checked
    /// and kept. SQLite is told the indexes (<paramref name="indexHints"/>, INDEXED BY as in its claim):
    /// without statistics it would pick (status, id) and read every ended job.
    /// </summary>
    public static string DeleteEnded(bool indexHints)
    {
        string Hint(string index) => indexHints ? $"INDEXED BY {index}" : "";
        return $"""
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs {Hint("jobs_finished_at")}
                WHERE finished IS NOT NULL AND finished < @before AND status IN ({Ended})
                UNION ALL
                SELECT id FROM jobs {Hint("jobs_ended_unstamped")}
                WHERE finished IS NULL AND status IN ({Ended}) AND created_at < @before
                LIMIT @limit)
            AND status IN ({Ended}) AND COALESCE(finished, created_at) < @before
            """;
    }

    /// <summary>Each worker's latest sighting among figures held in memory (<see cref="HeldProgress"/>), for a progress batch.</summary>
    public static IReadOnlyDictionary<string, long> WorkersSeen(IEnumerable<HeldProgress> progress) =>
        progress.Where(item => item.Job.Worker is not null)
            .GroupBy(item => item.Job.Worker!)
            .ToDictionary(group => group.Key, group => group.Max(item => item.SeenAt));

    /// <summary>A worker seen at @seen by a beat answered from memory; never moves its last sighting back.</summary>
    public const string SawWorker = "UPDATE workers SET last_seen_at = @seen WHERE name = @name AND last_seen_at < @seen";

    private const string Ended = "'finished', 'failed', 'cancelled'";
}
