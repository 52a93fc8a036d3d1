using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Metrics;

/// <summary>Counts claims, finishes, failures and lease expiries from the changes every host hears alike (<see cref="JobChangeSink.Announce"/>).</summary>
public sealed class ChangeCounters(QueueMetrics metrics) : IJobChangeListener
{
    void IJobChangeListener.Announced(long? eventId, long jobId, ChangeNotice notice, bool fromOtherHost)
    {
        // The work workers do is counted, a task's like a plain job's; a job made of tasks only sums its tasks up.
        if (!notice.MovesStatus || notice.Cause == ChangeCause.TasksSummed) return;
        if (notice.To == JobState.InProgress) metrics.Claimed();
        else if (notice.To == JobState.Finished) metrics.Finished();
        else if (notice.To == JobState.Failed) metrics.Failed();
        if (notice.Cause == ChangeCause.LeaseExpiry) metrics.LeaseExpired();
    }
}
