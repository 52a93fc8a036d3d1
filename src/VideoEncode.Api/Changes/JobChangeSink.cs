using VideoEncode.Api.Database;
using VideoEncode.Api.Events;
using VideoEncode.Api.Metrics;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Webhooks;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// The one place a committed change is announced. The store calls <see cref="Publish"/> after the
/// commit of every write, so no route can forget one: a log line for a change of status (job id,
/// from -> to, cause; never the key), at once a wake-up for a waiting claim per job that became
/// claimable, and one for the webhook dispatcher when the write put deliveries in the outbox. The
/// event on the live stream and the metrics' counters go through <see cref="Announce"/>: straight away on SQLite, where this host is the only one; on a shared
/// PostgreSQL store from <see cref="Cluster.SharedChangeFeed"/>, which reads every host's changes
/// back from the database, so that every host streams and counts the same changes with the same ids.
/// A heartbeat's progress is the exception: it goes on this host's stream at once as a passing event
/// (no id, not replayed), whether the store wrote it or <see cref="LiveClaims"/> answered it from memory.
/// </summary>
public sealed class JobChangeSink(ILogger<JobChangeSink> logger, JobEvents events, QueueMetrics metrics, ClaimWaiters waiters,
    DatabaseLocation database, WebhookSignal webhooks, LiveClaims live)
{
    public void Publish(IReadOnlyList<JobChange> changes)
    {
        var claimable = 0;
        foreach (var change in changes)
        {
            // Asked first: the cause's words are built for the line, which a host logging at Warning never writes.
            if (change.MovesStatus && logger.IsEnabled(LogLevel.Information))
                JobLog.StateChanged(logger, change.Job.Id, change.From, change.To, Describe(change.Cause));
            if (ChangeNotice.Claimable(change.From, change.To, change.Cause)) claimable++;
            if (IsProgress(change.MovesStatus, change.Cause))
            {
                // On this host's stream at once, on every store; other hosts hear it from the shared change feed.
                Progressed(change.Job);
                continue;
            }
            if (!IsClaim(change.Cause)) live.Forget(change.Job.Id);
            if (!database.IsShared) Announce(null, change.Job.Id, ChangeNotice.Of(change), fromOtherHost: false);
        }
        if (claimable > 0) waiters.Wake(claimable);
        webhooks.Committed();
    }

    /// <summary>A heartbeat's figures, for the streams open on this host: a passing event, serialised only when someone reads it.</summary>
    public void Progressed(Job job)
    {
        if (events.HasSubscribers) events.PublishTransient(ChangeNotice.Of(JobChange.Same(job with { Drain = false }, ChangeCause.Heartbeat)));
    }

    /// <summary>
    /// A change of job <paramref name="jobId"/> as every host hears it: its event (under <paramref name="eventId"/>
    /// when the store gave it one) and its counters; for a change another host made, a wake-up when it made a job
    /// claimable, and this host's memory of the job's claim is forgotten (<see cref="LiveClaims"/>). This host's
    /// own progress reached its stream at once (<see cref="Publish"/>); another host's is a passing event here.
    /// </summary>
    public void Announce(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        if (IsProgress(notice.MovesStatus, notice.Cause))
        {
            if (fromOtherHost && events.HasSubscribers) events.PublishTransient(notice);
            return;
        }
        events.Publish(eventId, notice);
        Count(notice);
        if (!fromOtherHost) return;
        if (notice.MakesClaimable) waiters.Wake(1);
        if (!IsClaim(notice.Cause)) live.Forget(jobId);
    }

    private static bool IsProgress(bool movesStatus, ChangeCause cause) => !movesStatus && cause == ChangeCause.Heartbeat;

    /// <summary>A claim starts what <see cref="LiveClaims"/> remembers; every other change of a job ends it.</summary>
    private static bool IsClaim(ChangeCause cause) => cause is ChangeCause.Claim or ChangeCause.LegacyClaim;

    /// <summary>Jobs whose retry backoff ended (the lease keeper finds them): as many waiting claims are woken.</summary>
    public void BackoffsEnded(int jobs) => waiters.Wake(jobs);

    private void Count(ChangeNotice notice)
    {
        if (!notice.MovesStatus) return;
        if (notice.To == JobStatus.InProgress) metrics.Claimed();
        else if (notice.To == JobStatus.Finished) metrics.Finished();
        else if (notice.To == JobStatus.Failed) metrics.Failed();
        if (notice.Cause == ChangeCause.LeaseExpiry) metrics.LeaseExpired();
    }

    /// <summary>"LeaseExpiry" -> "lease expiry", for the log line.</summary>
    private static string Describe(ChangeCause cause) =>
        string.Concat(cause.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
