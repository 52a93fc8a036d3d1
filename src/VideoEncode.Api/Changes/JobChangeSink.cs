using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Changes;

/// <summary>
/// The one place a committed change is announced. The job lifecycle calls <see cref="Publish"/> after
/// the commit of every write, so no route can forget one: a log line for a change of status (job id,
/// from -> to, cause; never the key), then the announcements, then every registered
/// <see cref="IJobChangeListener"/>'s <c>Committed</c> — the claim wake-ups, the webhook dispatcher's
/// wake-up, the in-memory claims. What every host must hear alike (the event on the live stream and the counters) goes
/// through <see cref="Announce"/>: straight away on SQLite, where this host is the only one; on a
/// shared PostgreSQL store from <see cref="Cluster.SharedChangeFeed"/>, which reads every host's
/// changes back from the database, so that every host streams and counts the same changes with the
/// same ids. A heartbeat's progress is the exception: it goes on this host's stream at once as a
/// passing event (no id, not replayed), whether the store wrote it or the in-memory claims answered it.
/// </summary>
public sealed class JobChangeSink(ILogger<JobChangeSink> logger, DatabaseLocation database, IEnumerable<IJobChangeListener> listeners)
{
    private readonly IJobChangeListener[] listeners = listeners.ToArray();

    public void Publish(IReadOnlyList<JobChange> changes)
    {
        foreach (var change in changes)
            // Asked first: the cause's words are built for the line, which a host logging at Warning never writes.
            if (change.MovesStatus && logger.IsEnabled(LogLevel.Information))
                JobLog.StateChanged(logger, change.Job.Id, JobChange.SpellFrom(change.From), JobChange.SpellTo(change.To), Describe(change.Cause));
        foreach (var change in changes)
        {
            if (IsProgress(change.MovesStatus, change.Cause))
                // On this host's stream at once, on every store; other hosts hear it from the shared change feed.
                Progressed(change.Job);
            else if (!database.IsShared)
                Announce(null, change.Job.Id, ChangeNotice.Of(change), fromOtherHost: false);
        }
        // After the announcements: a claim woken here must not put its "claimed" on the stream before the
        // event of the change that made its job claimable.
        foreach (var listener in listeners) listener.Committed(changes);
    }

    /// <summary>A heartbeat's figures, for the streams open on this host.</summary>
    public void Progressed(Job job)
    {
        foreach (var listener in listeners) listener.Progressed(job);
    }

    /// <summary>
    /// A change of job <paramref name="jobId"/> as every host hears it (<see cref="IJobChangeListener.Announced"/>).
    /// This host's own progress reached its stream at once (<see cref="Publish"/>); another host's is a passing event here.
    /// </summary>
    public void Announce(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        if (IsProgress(notice.MovesStatus, notice.Cause))
        {
            if (fromOtherHost)
                foreach (var listener in listeners) listener.ProgressedElsewhere(notice);
            return;
        }
        foreach (var listener in listeners) listener.Announced(eventId, jobId, notice, fromOtherHost);
    }

    /// <summary>A heartbeat's figures that keep the job's status: the one kind of change announced only in passing.</summary>
    public static bool IsProgress(bool movesStatus, ChangeCause cause) => !movesStatus && cause == ChangeCause.Heartbeat;

    /// <summary>A claim starts what the in-memory claims remember; every other change of a job ends it.</summary>
    public static bool IsClaim(ChangeCause cause) => cause is ChangeCause.Claim or ChangeCause.LegacyClaim;

    /// <summary>Jobs whose retry backoff ended (the lease keeper finds them): as many waiting claims are woken.</summary>
    public void BackoffsEnded(int jobs)
    {
        foreach (var listener in listeners) listener.BackoffsEnded(jobs);
    }

    /// <summary>"LeaseExpiry" -> "lease expiry", for the log line.</summary>
    private static string Describe(ChangeCause cause) =>
        string.Concat(cause.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
