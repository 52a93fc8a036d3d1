using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Every change and read of jobs: <see cref="JobLifecycle{TConnection}"/>, each step written once over
/// a driver per database (<see cref="Drivers.SqliteQueueDriver"/>: one host, the default;
/// <see cref="Drivers.PostgresQueueDriver"/>: several hosts sharing one queue). On both: a write is answered
/// only once committed, a claim is one atomic statement, every step of a claimed job is fenced by its
/// token, and the changes a write made are published (<see cref="Changes.JobChangeSink"/>) right after
/// its commit. Changes of state are decided by <see cref="JobTransitions"/>, names by <see cref="OutputNaming"/>.
/// </summary>
public interface IJobStore
{
    /// <summary>
    /// Stores new jobs, all or none, each with an output_name (<see cref="OutputNaming"/>). With an
    /// idempotency key seen in the last 24 hours nothing is stored and the first request's jobs are answered.
    /// </summary>
    /// <paramref name="createdBy"/> is the name of the key that asked, kept on each job.
    Task<Enqueued> CreateAsync(IReadOnlyList<NewJob> jobs, IdempotencyKey? key, string? createdBy, CancellationToken cancel);

    /// <summary>
    /// Hands the next claimable job — highest priority, then oldest — to one caller, with a fresh claim
    /// token and a lease; nothing while the queue is paused or to a worker being drained, and then says
    /// which (<see cref="StepOutcome.Paused"/>, <see cref="StepOutcome.Draining"/>).
    /// </summary>
    /// Only jobs the claim can run are handed out (<see cref="SharedJobSql.ClaimSearch"/>: by media kind and size).
    Task<JobStep> ClaimAsync(ClaimRequest claim, bool legacyClient, CancellationToken cancel);

    /// <summary>Renews the lease of the caller's claim and records its progress, speed and time left.</summary>
    Task<JobStep> HeartbeatAsync(long id, Heartbeat report, CancellationToken cancel);

    /// <summary>
    /// Writes the progress figures of running jobs that heartbeats answered from memory brought
    /// (<see cref="Heartbeats.LiveClaims"/>), each only while its claim (the token beside it) still holds the job, and
    /// notes their workers as seen. A shared store also records them as progress changes for the other hosts' streams.
    /// </summary>
    Task SaveProgressAsync(IReadOnlyList<HeldProgress> progress);

    /// <summary>
    /// Marks a running job finished (a cancel still waiting for the worker is dropped: the work is
    /// done), keeping its result's upload and sizes. Without a report (the original service's clients)
    /// the finish is unfenced. A store job's finish must name a complete upload (<see cref="StepOutcome.ResultMissing"/>).
    /// </summary>
    Task<JobStep> FinishAsync(long id, FinishReport? report, CancellationToken cancel);

    /// <summary>
    /// Marks a running job failed — or, when the failure is retryable and attempts remain, puts it
    /// back after a backoff. A cancel waiting for the worker wins over a retry: the job ends cancelled.
    /// </summary>
    Task<JobStep> FailAsync(long id, FailureReport report, CancellationToken cancel);

    /// <summary>Gives a claimed job back untouched (a worker shutting down), or ends it cancelled when a cancel was waiting.</summary>
    Task<JobStep> ReleaseAsync(long id, string token, CancellationToken cancel);

    /// <summary>A claim whose answer could not be delivered (the client went away): back as if never claimed.</summary>
    Task<JobStep> GiveBackUndeliveredClaimAsync(long id, string token);

    /// <summary>
    /// Cancels a job: a pending one at once; a running one is marked and ends cancelled when its
    /// worker acknowledges (with its token), gives it back or fails it, or when its lease lapses.
    /// </summary>
    /// A person's cancel (no token) is recorded in the audit trail under <paramref name="actor"/>.
    Task<JobStep> CancelAsync(long id, string? token, string? actor, CancellationToken cancel);

    /// <summary>Gives a failed or cancelled job a fresh start: pending, attempts counted from zero.</summary>
    Task<JobStep> RetryAsync(long id, string actor, CancellationToken cancel);

    /// <summary>Puts a job in any state back in the queue as if it had never been claimed (the original's reset).</summary>
    Task<JobStep> ResetAsync(long id, string actor, CancellationToken cancel);

    /// <summary>Deletes a job in any state. Retry, reset and delete are recorded in the audit trail under <c>actor</c>.</summary>
    Task<JobStep> DeleteAsync(long id, string actor, CancellationToken cancel);

    /// <summary>
    /// Ends every lease that has lapsed: back to pending, or failed when its attempts are used up,
    /// or cancelled when a cancel was waiting for its worker. Answers how many.
    /// </summary>
    Task<int> ExpireLeasesAsync();

    /// <summary>How many backed-off jobs became claimable in (<paramref name="after"/>, <paramref name="upTo"/>] (unix seconds).</summary>
    Task<int> BackoffsEndedAsync(long after, long upTo);

    /// <summary>
    /// Forgets idempotency keys older than <see cref="JobRules.IdempotencyWindow"/> and, on a shared
    /// store, the stored changes every host has long read.
    /// </summary>
    Task ForgetOldRecordsAsync();

    /// <summary>
    /// Deletes at most <paramref name="limit"/> finished, failed or cancelled jobs that ended before
    /// <paramref name="endedBefore"/> (unix seconds) and answers how many; for <see cref="JobRetention"/>,
    /// which explains why these deletions are not announced as changes.
    /// </summary>
    Task<int> DeleteEndedAsync(long endedBefore, int limit);

    /// <summary>
    /// Hands the space that deleted rows left behind back to the file system, a bounded amount per
    /// call: SQLite's incremental vacuum. On PostgreSQL autovacuum does this by itself, and this does nothing.
    /// </summary>
    Task ReclaimSpaceAsync();

    /// <summary>
    /// One action on many jobs in one transaction (<see cref="BulkRules"/>): each step once over all the
    /// jobs it applies to, the others skipped with a reason; every change published as a single
    /// action's is, and one audit entry under <paramref name="actor"/> for the whole action.
    /// </summary>
    Task<BulkResult> BulkAsync(JobAction action, BulkTarget target, string actor, CancellationToken cancel);

    Task<Job?> GetAsync(long id);

    /// <summary>The tasks of job <paramref name="id"/> in order and its outputs; null when there is no such job (a plain job has none).</summary>
    Task<JobTasksView?> TasksAsync(long id);

    /// <summary>Newest first, filtered by status and keyset-paged by before_id when asked.</summary>
    Task<IReadOnlyList<Job>> ListAsync(JobListQuery query);
}

/// <summary>A job's tasks as GET /api/jobs/{id}/tasks lists them and its outputs as GET /api/jobs/{id} shows them.</summary>
public sealed record JobTasksView(IReadOnlyList<TaskLine> Tasks, IReadOnlyList<JobOutput> Outputs);
