namespace VideoEncode.Api.Upkeep;

/// <summary>
/// One task of the queue's upkeep, run by <see cref="UpkeepLoop"/> at each of its rounds, in the order
/// the tasks are registered. A task that throws fails the round (the loop logs it and gives leases
/// their grace once the database answers again); a chore that should fail on its own catches its own
/// errors (<see cref="LeaderChore"/>).
/// </summary>
public interface IUpkeepTask
{
    Task RunAsync(UpkeepRound round);
}

/// <summary>
/// A round of upkeep: when it began, whether this host leads the upkeep now (on SQLite the one host
/// always does), and whether the round before it failed — the database could not be reached — so
/// heartbeats may have failed meanwhile.
/// </summary>
public sealed record UpkeepRound(DateTimeOffset Now, bool Leads, bool AfterFailure);
