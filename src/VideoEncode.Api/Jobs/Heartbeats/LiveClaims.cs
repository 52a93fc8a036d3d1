using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Configuration;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs.Heartbeats;

/// <summary>
/// The running claims this host has answered, so that a heartbeat which only reports progress needs
/// no database write. A heartbeat is answered from memory (<see cref="TryBeat"/>) when this host knows
/// the claim — the job, its token, its lease as last written, whether a cancel or a drain was asked —
/// and that lease is not yet due for renewal (<see cref="JobTransitions.RenewWithinSeconds"/>: half of it gone, sooner
/// for a short lease); otherwise it goes to the store, which renews the lease and reads the job afresh,
/// and the answer is remembered (<see cref="Remember"/>). With a heartbeat a second and a 60 s lease,
/// one beat in thirty writes.
///
/// What is kept where: a lease, a claim and every change of status are written before they are
/// answered, as before. The progress figures a remembered beat brings (progress, speed, time left,
/// phase) go on the event stream at once, show in this host's answers (<see cref="Overlay"/>) and are
/// written in one batch every ProgressFlushSeconds (<see cref="ProgressFlusher"/>): a host that crashes
/// loses at most those seconds of figures.
///
/// A remembered claim is forgotten when anything but a claim or a heartbeat changes its job
/// (<see cref="Forget"/>, as a listener of <see cref="JobChangeSink"/>): this host's changes at once, other
/// hosts' when the shared change feed brings them (within moments). Until then a beat may still be
/// answered "yours, no cancel", as a beat that reached the database just before the change would have
/// been; the worker hears the news with its next beat, and every step that ends a job stays fenced by
/// the claim token in the database. A drain asked on this host forgets its worker's claims
/// (<see cref="ForgetWorker"/>); one asked on another host is heard at the next lease renewal.
/// </summary>
public sealed class LiveClaims(TimeProvider clock, IOptions<QueueOptions> options) : IJobChangeListener
{
    /// <summary>This host's changes: a claim starts what is remembered, progress keeps it, every other change ends it.</summary>
    void IJobChangeListener.Committed(IReadOnlyList<JobChange> changes)
    {
        foreach (var change in changes)
            if (!JobChangeSink.IsProgress(change.MovesStatus, change.Cause) && !JobChangeSink.IsClaim(change.Cause)) Forget(change.Job.Id);
    }

    /// <summary>Another host's change (progress is not announced here): forgotten as this host's own are.</summary>
    void IJobChangeListener.Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        if (fromOtherHost && !JobChangeSink.IsClaim(notice.Cause)) Forget(jobId);
    }

    // Forgets are stamped per stripe of job ids, so a store answer read before a change cannot be
    // remembered after the change was forgotten (see Remember). 4,096 stripes keep a change to one job
    // from refusing the remembering of another to a rare collision.
    private const int Stripes = 4096;

    private readonly ConcurrentDictionary<long, Claim> claims = new();
    private readonly long[] forgottenAt = new long[Stripes];
    private readonly object gate = new();
    private long sequence;

    private sealed class Claim(Job job, string token)
    {
        public Job Job = job;
        public readonly string Token = token;
        /// <summary>Figures reported since the last batch write.</summary>
        public bool Unsaved;
        /// <summary>When the last beat answered from memory came (unix seconds): the worker was seen then.</summary>
        public long SeenAt;
    }

    /// <summary>The point in the order of forgets now: take it before asking the store, hand it to <see cref="Remember"/>.</summary>
    public long Now() => Interlocked.Read(ref sequence);

    /// <summary>
    /// The job with the beat's figures, answered from memory; null when the store must answer: a claim
    /// this host does not know (or knows under another token), one due for renewal
    /// (<see cref="JobTransitions.AnswerBeatFromMemory"/>), or one whose lease is longer than this host's.
    /// </summary>
    public Job? TryBeat(long id, Heartbeat report)
    {
        if (!claims.TryGetValue(id, out var claim) || claim.Token != report.ClaimToken) return null;
        if (claim.Job.LeaseExpiresAt is not { } expires) return null;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (!JobTransitions.AnswerBeatFromMemory(expires - now, options.Value.LeaseSeconds)) return null;
        lock (claim)
        {
            var job = claim.Job;
            claim.Job = job with
            {
                Progress = report.Progress ?? job.Progress,
                Speed = report.Speed ?? job.Speed,
                EtaSeconds = report.EtaSeconds ?? job.EtaSeconds,
                Phase = report.Phase ?? job.Phase,
            };
            claim.Unsaved = true;
            claim.SeenAt = Math.Max(claim.SeenAt, now); // two beats of one claim may cross
            return claim.Job;
        }
    }

    /// <summary>
    /// Remembers a running job as the store answered it to the holder of <paramref name="token"/> — unless
    /// a change to it was forgotten since <paramref name="asked"/> (<see cref="Now"/> before the store was
    /// asked): the answer may predate that change.
    /// </summary>
    public void Remember(Job job, string token, long asked)
    {
        if (job.State != JobState.InProgress || job.LeaseExpiresAt is null) return;
        lock (gate)
        {
            if (forgottenAt[Stripe(job.Id)] > asked) return;
            claims[job.Id] = new Claim(job with { ClaimToken = null }, token);
        }
    }

    /// <summary>Forgets the claim of a job that changed; its unsaved figures go with it (the change supersedes them).</summary>
    public void Forget(long id)
    {
        lock (gate)
        {
            forgottenAt[Stripe(id)] = ++sequence;
            claims.TryRemove(id, out _);
        }
    }

    /// <summary>Forgets every claim of a worker whose drain changed, so its next beat reads the drain from the store.</summary>
    public void ForgetWorker(string name)
    {
        foreach (var (id, claim) in claims)
            if (claim.Job.Worker == name) Forget(id);
    }

    /// <summary>The figures reported since the last call, each job as it now reads with them; they count as saved from here.</summary>
    public IReadOnlyList<HeldProgress> TakeUnsaved()
    {
        var unsaved = new List<HeldProgress>();
        foreach (var claim in claims.Values)
        {
            if (!claim.Unsaved) continue;
            lock (claim)
            {
                claim.Unsaved = false;
                unsaved.Add(new HeldProgress(claim.Job, claim.Token, claim.SeenAt));
            }
        }
        return unsaved;
    }

    /// <summary>
    /// When each worker was last seen by a beat answered from memory (unix seconds), for the workers list:
    /// the database has it only from the next batch. One pass over the claims, however many workers.
    /// </summary>
    public IReadOnlyDictionary<string, long> WorkersSeen()
    {
        var seen = new Dictionary<string, long>();
        foreach (var claim in claims.Values)
            if (claim.Job.Worker is { } worker && claim.SeenAt > seen.GetValueOrDefault(worker))
                seen[worker] = claim.SeenAt;
        return seen;
    }

    /// <summary>A running job as read from the store, with the figures this host holds for it that may not be written yet.</summary>
    public Job Overlay(Job job) =>
        job.State == JobState.InProgress && Held(job.Id, job.Worker) is { } held
            ? job with { Progress = held.Progress, Speed = held.Speed, EtaSeconds = held.EtaSeconds, Phase = held.Phase }
            : job;

    /// <inheritdoc cref="Overlay(Job)"/>
    public Workers.WorkerJob Overlay(Workers.WorkerJob job, string worker) =>
        Held(job.Id, worker) is { } held ? job with { Progress = held.Progress, Speed = held.Speed, EtaSeconds = held.EtaSeconds } : job;

    /// <inheritdoc cref="Overlay(Job)"/>
    public TaskLine Overlay(TaskLine task) =>
        task.Status == JobStatus.InProgress && Held(task.Id, task.Worker) is { } held ? task with { Progress = held.Progress } : task;

    private Job? Held(long id, string? worker) => claims.TryGetValue(id, out var claim) && claim.Job.Worker == worker ? claim.Job : null;

    private static int Stripe(long id) => (int)(id & (Stripes - 1));
}
