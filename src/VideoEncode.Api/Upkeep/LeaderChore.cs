namespace VideoEncode.Api.Upkeep;

/// <summary>
/// A chore of the leading host, once a minute from the host's start. It is scheduled before it runs and
/// fails on its own: one that keeps failing (a huge delete timing out, say) is logged and retried at
/// its interval, and never stops leases from being swept nor moves their grace, which is for a database
/// that did not answer at all. A chore with a backlog (more left than a round does) runs again at the
/// next round instead.
/// </summary>
public abstract class LeaderChore(TimeProvider clock, ILogger logger) : IUpkeepTask
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private DateTimeOffset next = clock.GetUtcNow();

    protected TimeProvider Clock { get; } = clock;

    /// <summary>What the chore does, for the log line when it fails: "deleting ended jobs past RetentionDays".</summary>
    protected abstract string Doing { get; }

    /// <summary>One round; answers true when it stopped with more left (the next round then comes at the next sweep).</summary>
    public abstract Task<bool> RunAsync();

    public async Task RunAsync(UpkeepRound round)
    {
        if (!round.Leads || round.Now < next) return;
        next = round.Now + Interval;
        try
        {
            if (await RunAsync()) next = round.Now;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The queue's upkeep failed at {Chore}; trying again in {Interval}.", Doing, Interval);
        }
    }
}
