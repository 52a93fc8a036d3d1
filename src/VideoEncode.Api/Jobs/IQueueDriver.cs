using System.Data.Common;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>How a step reads a job's claim state: whether, on a store with row locks, it locks the row.</summary>
public enum RowLock
{
    /// <summary>A plain read: a step that writes nothing (a repeat is judged), so a pending job stays visible to claims.</summary>
    None,
    /// <summary>The row locked until the write ends, so two steps on one job take turns.</summary>
    Job,
    /// <summary>
    /// The row locked only while the job runs (none when it does not): a worker's step. A claim skips
    /// locked rows, so a step that locked a pending job — a late fail from a worker whose lease was
    /// swept — would hide it from claims for a moment.
    /// </summary>
    Running,
}

/// <summary>What a claim asks for: the worker's request and the claim's own terms.</summary>
internal readonly record struct ClaimTerms(ClaimRequest Request, string Token, long Now, int LeaseSeconds);

/// <summary>A job to insert, with what the enqueue decided for it.</summary>
internal readonly record struct JobToInsert(NewJob Job, string OutputName, StoredInput? Upload, string? Settings);

/// <summary>
/// What one database does its own way under <see cref="JobLifecycle{TConnection}"/>, which writes every
/// step's flow once: how a write runs and commits, how a job's claim state is read (locked or not), the
/// claim, the heartbeat, the ends of a run with their worker's counts, a batch insert, name and source
/// locks, the dialect's search and a list of ids. Nothing here decides a change of state
/// (<see cref="JobTransitions"/> does). SQLite's methods complete synchronously (its single writer runs
/// them in its turn), so they answer ValueTasks; the claim, heartbeat and finish keep its prepared statements.
/// </summary>
internal interface IQueueDriver<TConnection> where TConnection : DbConnection
{
    /// <summary>
    /// Runs <paramref name="write"/> in one transaction and completes once it is committed (durably). On
    /// SQLite the write runs on the single writer and must complete synchronously; on PostgreSQL it is a
    /// transaction retried on a serialisation failure or deadlock, so it must be safe to run again.
    /// </summary>
    Task<T> WriteAsync<T>(Func<TConnection, ValueTask<T>> write, CancellationToken cancel);

    /// <summary>A connection of its own for a read, outside any write; the caller disposes it.</summary>
    ValueTask<TConnection> OpenReadAsync();

    /// <summary>Inside a write: shares its changes with the other hosts (PostgreSQL's change feed; nothing on SQLite).</summary>
    ValueTask ShareAsync(TConnection connection, IReadOnlyList<JobChange> changes);

    /// <summary>After the commit of a write that made <paramref name="changes"/>: the other hosts are told (PostgreSQL), the search index woken for new jobs (SQLite).</summary>
    void Committed(IReadOnlyList<JobChange> changes);

    /// <summary>A job's claim state, read as <paramref name="rowLock"/> says; null for no such job (or, with <see cref="RowLock.Running"/>, one not running).</summary>
    ValueTask<ClaimState?> ClaimStateAsync(TConnection connection, long id, RowLock rowLock);

    /// <summary>Takes the next claimable job for the claim (one atomic statement) and notes a named worker as seen; null when there is none.</summary>
    ValueTask<Job?> ClaimAsync(TConnection connection, ClaimTerms terms);

    /// <summary>Why the claim found nothing (a timed pause that ended before <paramref name="now"/> holds nothing back).</summary>
    ValueTask<NoClaimFacts> WhyNoClaimAsync(TConnection connection, string? worker, long now);

    /// <summary>Renews the lease of the claim <paramref name="report"/> holds, keeps its figures and notes its worker as seen; null when the claim does not hold the job.</summary>
    ValueTask<(Job? Job, bool Drain)> HeartbeatAsync(TConnection connection, long id, Heartbeat report, long now, int leaseSeconds);

    /// <summary>Runs <see cref="SharedJobSql.Finish"/> and counts a finished job to its worker; null when it changed nothing.</summary>
    ValueTask<Job?> FinishAsync(TConnection connection, long id, FinishReport? report, long now);

    /// <summary>Runs <see cref="SharedJobSql.Fail"/> and counts a failed job to its worker.</summary>
    ValueTask<Job> FailAsync(TConnection connection, object parameters);

    /// <summary>Writes progress figures held in memory, each only while its token still holds the job, and notes their workers as seen.</summary>
    Task SaveProgressAsync(IReadOnlyList<HeldProgress> progress);

    /// <summary>Makes a second enqueue with <paramref name="key"/> wait for the first (PostgreSQL; SQLite's writer already serialises).</summary>
    ValueTask LockRequestKeyAsync(TConnection connection, string key);

    /// <summary>
    /// Makes requests that want the same output names (ASCII-lowered) take turns until the write ends
    /// (PostgreSQL's advisory locks; SQLite's writer already serialises).
    /// </summary>
    ValueTask LockNamesAsync(TConnection connection, IReadOnlyCollection<string> names);

    /// <summary>Of <paramref name="names"/>, those a live job writes, ASCII-lowered (letter case ignored, as the unique index does).</summary>
    ValueTask<IReadOnlyCollection<string>> HeldNamesAsync(TConnection connection, IReadOnlyCollection<string> names);

    /// <summary>
    /// The first of the request's watched sources enqueued before, with the job it became; none when none
    /// was. On PostgreSQL the sources are locked first, so two requests for one file take turns.
    /// </summary>
    ValueTask<(int Index, WatchedFile Source, long JobId)?> FirstSeenSourceAsync(TConnection connection, IReadOnlyList<(int Index, WatchedFile Source)> sources);

    /// <summary>Remembers the watched sources as enqueued, each with the job it became.</summary>
    ValueTask RememberSourcesAsync(TConnection connection, IReadOnlyList<(WatchedFile Source, long JobId)> sources, long now);

    /// <summary>Inserts the jobs, in order, as pending; answers them as stored, in order.</summary>
    ValueTask<List<Job>> InsertAsync(TConnection connection, IReadOnlyList<JobToInsert> jobs, string? createdBy, long now);

    /// <summary>The jobs <paramref name="filter"/> selects, in the dialect's search.</summary>
    JobSelection Select(JobFilter filter);

    /// <summary>A condition on a table's id for a list of ids bound as @ids (<see cref="Ids{T}"/>): a statement's text is the same for any number.</summary>
    string InIds { get; }

    /// <summary>As <see cref="InIds"/>, on the job a task belongs to (jobs.parent_id): the tasks of the jobs in @ids.</summary>
    string InParentIds { get; }

    /// <summary>The value of @ids for <see cref="InIds"/>.</summary>
    object Ids<T>(IEnumerable<T> ids);

    /// <summary>What a read of the jobs a write will change appends to lock them ("FOR UPDATE"), or nothing.</summary>
    string LockRows { get; }

    /// <summary>Deletes at most <paramref name="limit"/> jobs that ended before <paramref name="endedBefore"/> (<see cref="SharedJobSql.DeleteEnded"/>).</summary>
    Task<int> DeleteEndedAsync(long endedBefore, int limit);

    /// <summary>Forgets idempotency keys remembered before <paramref name="since"/> and what else the store keeps for a while (PostgreSQL's change feed).</summary>
    Task ForgetOldRecordsAsync(long since);

    /// <summary>Hands the space deleted rows left back to the file system, a bounded amount (SQLite; autovacuum does it on PostgreSQL).</summary>
    Task ReclaimSpaceAsync();
}
