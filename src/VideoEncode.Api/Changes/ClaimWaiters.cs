using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// Long-poll claims waiting for work, first come first served. A job that becomes claimable wakes
/// one waiter, not all of them: a thousand idle workers and one enqueue make one claim attempt,
/// not a thousand. Waiters cost nothing while they wait — no polling, no database work.
///
/// Claims wait in one line per kind of media they take (<see cref="MediaKinds"/>: shared-folder jobs,
/// store jobs, or any) and set of encoders they list (<see cref="ClaimRequest.Encoders"/>), and a wake
/// goes to the first waiter of every line: a wake does not say which kind of job arrived or which
/// encoder it needs, and a store-only or libx264-only worker must not swallow the wake of a job that a
/// worker behind it could run. A farm of one kind has one line, and one claim attempt per job; a farm
/// of k kinds makes k attempts per job. Lines come and go with their waiters.
///
/// A wake means "one job may be claimable". Whoever receives it either spends it on a claim
/// attempt or passes it on (<see cref="Ticket.Dispose"/>), so a wake is never lost to a waiter
/// that went away, timed out at the same moment, or claimed a different job first.
/// </summary>
public sealed class ClaimWaiters(TimeSpan? recheckAfter = null) : IJobChangeListener
{
    /// <summary>This host's changes: as many wakes as jobs became claimable.</summary>
    void IJobChangeListener.Committed(IReadOnlyList<JobChange> changes)
    {
        var claimable = 0;
        foreach (var change in changes)
            if (ChangeNotice.Claimable(change.From, change.To, change.Cause)) claimable++;
        if (claimable > 0) Wake(claimable);
    }

    /// <summary>Another host's change that made a job claimable (this host's own woke its claims at once).</summary>
    void IJobChangeListener.Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        if (fromOtherHost && notice.MakesClaimable) Wake(1);
    }

    void IJobChangeListener.BackoffsEnded(int jobs) => Wake(jobs);

    /// <summary>
    /// How long a waiting claim waits for a wake before it tries again anyway: forever on SQLite,
    /// where every change is seen here; a second on a shared store, where a wake from another host
    /// can come late (a long transaction on the server holds the change feed back) and a claim can
    /// pass over a job another host held locked for a moment.
    /// </summary>
    public TimeSpan RecheckAfter { get; } = recheckAfter ?? Timeout.InfiniteTimeSpan;

    private readonly object gate = new();
    private readonly Dictionary<string, LinkedList<TaskCompletionSource>> lines = [];

    /// <summary>
    /// Joins the line of waiters for <paramref name="media"/> (null: shared-folder jobs, as a claim that
    /// names no kind) and <paramref name="encoders"/> (null: a claim that lists none). Enter *before*
    /// trying to claim: a job that arrives between a failed claim and the wait then still wakes this waiter.
    /// </summary>
    public Ticket Enter(string? media = null, IReadOnlyList<string>? encoders = null)
    {
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = LineKey(media ?? MediaKinds.Shared, encoders);
        lock (gate)
        {
            if (!lines.TryGetValue(key, out var line)) lines[key] = line = new LinkedList<TaskCompletionSource>();
            return new Ticket(this, key, line, line.AddLast(woken));
        }
    }

    /// <summary>Claims that can run the same jobs share a line: the same media, the same encoders in any order.</summary>
    private static string LineKey(string media, IReadOnlyList<string>? encoders) =>
        encoders is null ? media : media + ":" + string.Join(",", encoders.Order(StringComparer.Ordinal));

    /// <summary>Wakes up to <paramref name="jobs"/> waiters of each line, oldest first: that many jobs may have become claimable.</summary>
    public void Wake(int jobs)
    {
        lock (gate)
            foreach (var (key, line) in lines.ToList())
                WakeLocked(key, line, jobs);
    }

    /// <summary>Passes a wake on to the line of <paramref name="key"/> as it is now (a new one if the old emptied and went).</summary>
    private void WakeOne(string key)
    {
        lock (gate)
            if (lines.TryGetValue(key, out var line))
                WakeLocked(key, line, 1);
    }

    private void WakeLocked(string key, LinkedList<TaskCompletionSource> line, int jobs)
    {
        while (jobs > 0 && line.First is { } first)
        {
            line.RemoveFirst();
            if (first.Value.TrySetResult()) jobs--;
        }
        ForgetIfEmptyLocked(key, line);
    }

    /// <summary>An empty line goes, so lines stay as many as the kinds of claims waiting.</summary>
    private void ForgetIfEmptyLocked(string key, LinkedList<TaskCompletionSource> line)
    {
        if (line.Count == 0 && lines.TryGetValue(key, out var current) && current == line) lines.Remove(key);
    }

    /// <summary>How many claims are waiting now.</summary>
    public int Count
    {
        get { lock (gate) return lines.Values.Sum(line => line.Count); }
    }

    /// <summary>One waiter's place in its line. Dispose it when done; a wake it did not spend goes to the next waiter of that line.</summary>
    public sealed class Ticket(ClaimWaiters owner, string key, LinkedList<TaskCompletionSource> line, LinkedListNode<TaskCompletionSource> node) : IDisposable
    {
        private bool spent, disposed;

        /// <summary>Completes when a job may have become claimable.</summary>
        public Task Woken => node.Value.Task;

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
                if (node.List is not null) line.Remove(node);
                owner.ForgetIfEmptyLocked(key, line);
            }
            if (passOn) owner.WakeOne(key);
        }
    }
}
