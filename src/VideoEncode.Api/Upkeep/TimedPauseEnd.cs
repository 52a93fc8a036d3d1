using VideoEncode.Api.Queue;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// On every host, at every round: ends a timed pause whose time is up (<see cref="QueueControl.EndTimedPauseAsync"/>), so its
/// resume is recorded and this host's waiting claims are woken. The claims themselves need no one to end it: they read its end.
/// </summary>
public sealed class TimedPauseEnd(QueueControl queue) : IUpkeepTask
{
    public Task RunAsync(UpkeepRound round) => queue.EndTimedPauseAsync();
}
