using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// Long-poll claims waiting for work, first come first served. A job that becomes claimable wakes
/// one waiter, not all of them: a thousand idle workers and one enqueue make one claim attempt,
/// not a thousand. Waiters cost nothing while they wait — no polling, no database work.
///
/// Claims wait in one line per kind of media they take (<see cref="MediaKinds"/>: shared-folder jobs,
/// store jobs, or any) and set of encoders they list (<see cref="ClaimRequest.Encoders"/>), and a job
/// wakes the first waiter of every line that can run it (<see cref="ClaimRequest.CanRun"/>: its media
/// and the encoder it needs): a store-only or libx264-only worker must not swallow the wake of a job that
/// a worker behind it could run, and a line that cannot run the job is not troubled. A farm of one kind has
/// one line, and one claim attempt per job. A wake whose job is not known (a backoff that ended, a paused
/// queue resumed) goes to every line. Lines come and go with their waiters.
///
/// One key's claims may wait in at most <see cref="MaxLinesPerKey"/> lines at once, so a key cannot
/// multiply the claim attempts of every job by making up encoders lists. Its claims of further kinds wait in
/// the one shared line of mixed claims, where a job wakes the first waiter that can run it.
///
/// A wake means "one job may be claimable". Whoever receives it either spends it on a claim
/// attempt or passes it on (<see cref="Ticket.Dispose"/>), so a wake is never lost to a waiter
/// that went away, timed out at the same moment, or claimed a different job first.
/// </summary>
public sealed class ClaimWaiters(TimeSpan? recheckAfter = null) : IJobChangeListener
{
    /// <summary>
    /// The lines one key's waiting claims may hold at once: more kinds of worker than a farm sharing one key
    /// runs (one per machine type: CPU, each GPU, store-only), few enough that a key cannot make a job cost
    /// more than this many claim attempts (and one in the shared line).
    /// </summary>
    public const int MaxLinesPerKey = 8;

    /// <summary>This host's changes: each job that became claimable wakes the lines that can run it.</summary>
    void IJobChangeListener.Committed(IReadOnlyList<JobChange> changes)
    {
        Dictionary<JobKind, int>? claimable = null;
        foreach (var change in changes)
            if (ChangeNotice.Claimable(change.From, change.To, change.Cause))
            {
                claimable ??= [];
                var kind = JobKind.Of(change.Job);
                claimable[kind] = claimable.GetValueOrDefault(kind) + 1;
            }
        if (claimable is null) return;
        lock (gate)
            foreach (var (kind, jobs) in claimable)
                WakeLocked(kind, jobs);
    }

    /// <summary>Another host's change that made a job claimable (this host's own woke its claims at once).</summary>
    void IJobChangeListener.Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        if (!fromOtherHost || !notice.MakesClaimable) return;
        // The job's JSON is read only when a claim waits here.
        lock (gate)
            if (lines.Count == 0) return;
        var kind = JobKind.Read(notice.Data);
        lock (gate) WakeLocked(kind, 1);
    }

    void IJobChangeListener.BackoffsEnded(int jobs) => Wake(jobs);

    /// <summary>
    /// How long a waiting claim waits for a wake before it tries again anyway: forever on SQLite,
    /// where every change is seen here; a second on a shared store, where a wake from another host
    /// can come late (a long transaction on the server holds the change feed back) and a claim can
    /// pass over a job another host held locked for a moment.
    /// </summary>
    public TimeSpan RecheckAfter { get; } = recheckAfter ?? Timeout.InfiniteTimeSpan;

    /// <summary>The key of the shared line of mixed claims; no media kind is spelt so.</summary>
    private const string SharedLine = "*";

    private readonly object gate = new();
    private readonly Dictionary<string, LinkedList<Waiter>> lines = [];
    /// <summary>For each key with claims waiting: the lines they wait in (not the shared one), with how many in each.</summary>
    private readonly Dictionary<string, Dictionary<string, int>> linesOfKeys = [];

    /// <summary>What a waiter takes, and what woke it (null: a job of any kind), to pass on unspent.</summary>
    internal sealed class Waiter(string? media, IReadOnlyList<string>? encoders, string? apiKey)
    {
        public readonly TaskCompletionSource Woken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly string? ApiKey = apiKey;
        public JobKind? WokenFor;

        public bool CanRun(JobKind? kind) => kind is not { } job || ClaimRequest.CanRun(media, encoders, job.Stored, job.NeedsEncoder);
    }

    /// <summary>What a line needs to know of a claimable job to tell whether its claims can run it.</summary>
    internal readonly record struct JobKind(bool Stored, string? NeedsEncoder)
    {
        public static JobKind Of(Job job) => new(job.UploadId is not null, job.NeedsEncoder);

        /// <summary>From another host's notice of the job (its JSON); null, a job of any kind, if that cannot be read.</summary>
        public static JobKind? Read(string data)
        {
            try
            {
                using var json = JsonDocument.Parse(data);
                var root = json.RootElement;
                return new JobKind(root.TryGetProperty("upload_id", out var upload) && upload.ValueKind == JsonValueKind.String,
                    root.TryGetProperty("needs_encoder", out var encoder) && encoder.ValueKind == JsonValueKind.String ? encoder.GetString() : null);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Joins the line of waiters for <paramref name="media"/> (null: shared-folder jobs, as a claim that
    /// names no kind) and <paramref name="encoders"/> (null: a claim that lists none), or the shared line when
    /// <paramref name="apiKey"/>'s claims already wait in <see cref="MaxLinesPerKey"/> others. Enter *before*
    /// trying to claim: a job that arrives between a failed claim and the wait then still wakes this waiter.
    /// </summary>
    public Ticket Enter(string? media = null, IReadOnlyList<string>? encoders = null, string? apiKey = null)
    {
        media ??= MediaKinds.Shared;
        var waiter = new Waiter(media, encoders, apiKey);
        var key = LineKey(media, encoders);
        lock (gate)
        {
            if (apiKey is not null)
            {
                if (!linesOfKeys.TryGetValue(apiKey, out var held)) linesOfKeys[apiKey] = held = [];
                if (held.ContainsKey(key) || held.Count < MaxLinesPerKey) held[key] = held.GetValueOrDefault(key) + 1;
                else key = SharedLine;
            }
            if (!lines.TryGetValue(key, out var line)) lines[key] = line = new LinkedList<Waiter>();
            return new Ticket(this, key, line, line.AddLast(waiter));
        }
    }

    /// <summary>Claims that can run the same jobs share a line: the same media, the same encoders in any order.</summary>
    private static string LineKey(string media, IReadOnlyList<string>? encoders) =>
        encoders is null ? media : media + ":" + string.Join(",", encoders.Order(StringComparer.Ordinal));

    /// <summary>Wakes up to <paramref name="jobs"/> waiters of each line, oldest first: that many jobs of any kind may have become claimable.</summary>
    public void Wake(int jobs)
    {
        lock (gate) WakeLocked(null, jobs);
    }

    /// <summary>Wakes up to <paramref name="jobs"/> waiters that can run <paramref name="kind"/> (null: any) in each line.</summary>
    private void WakeLocked(JobKind? kind, int jobs)
    {
        foreach (var (key, line) in lines.ToList())
            WakeLocked(key, line, kind, jobs);
    }

    /// <summary>Passes a wake on to the line of <paramref name="key"/> as it is now (a new one if the old emptied and went).</summary>
    private void WakeOne(string key, JobKind? kind)
    {
        lock (gate)
            if (lines.TryGetValue(key, out var line))
                WakeLocked(key, line, kind, 1);
    }

    private void WakeLocked(string key, LinkedList<Waiter> line, JobKind? kind, int jobs)
    {
        for (var node = line.First; jobs > 0 && node is not null;)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (waiter.CanRun(kind))
            {
                RemoveLocked(key, line, node);
                waiter.WokenFor = kind;
                if (waiter.Woken.TrySetResult()) jobs--;
            }
            // The waiters of a line all take the same jobs; only the shared line is worth reading on.
            else if (key != SharedLine) break;
            node = next;
        }
        ForgetIfEmptyLocked(key, line);
    }

    private void RemoveLocked(string key, LinkedList<Waiter> line, LinkedListNode<Waiter> node)
    {
        line.Remove(node);
        if (key == SharedLine || node.Value.ApiKey is not { } apiKey || !linesOfKeys.TryGetValue(apiKey, out var held)) return;
        if ((held[key] -= 1) == 0) held.Remove(key);
        if (held.Count == 0) linesOfKeys.Remove(apiKey);
    }

    /// <summary>An empty line goes, so lines stay as many as the kinds of claims waiting.</summary>
    private void ForgetIfEmptyLocked(string key, LinkedList<Waiter> line)
    {
        if (line.Count == 0 && lines.TryGetValue(key, out var current) && current == line) lines.Remove(key);
    }

    /// <summary>How many claims are waiting now.</summary>
    public int Count
    {
        get { lock (gate) return lines.Values.Sum(line => line.Count); }
    }

    /// <summary>One waiter's place in its line. Dispose it when done; a wake it did not spend goes to the next waiter of that line that can use it.</summary>
    public sealed class Ticket : IDisposable
    {
        private readonly ClaimWaiters owner;
        private readonly string key;
        private readonly LinkedList<Waiter> line;
        private readonly LinkedListNode<Waiter> node;
        private bool spent, disposed;

        internal Ticket(ClaimWaiters owner, string key, LinkedList<Waiter> line, LinkedListNode<Waiter> node) =>
            (this.owner, this.key, this.line, this.node) = (owner, key, line, node);

        /// <summary>Completes when a job this claim can run may have become claimable.</summary>
        public Task Woken => node.Value.Woken.Task;

        /// <summary>The wake is being spent on a claim attempt that may find nothing; it is not passed on.</summary>
        public void Spend() => spent = true;

        public void Dispose()
        {
            bool passOn;
            lock (owner.gate)
            {
                if (disposed) return;
                disposed = true;
                passOn = node.List is null && !spent;
                if (node.List is not null) owner.RemoveLocked(key, line, node);
                owner.ForgetIfEmptyLocked(key, line);
            }
            if (passOn) owner.WakeOne(key, node.Value.WokenFor);
        }
    }
}
