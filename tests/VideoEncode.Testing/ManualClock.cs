namespace VideoEncode.Testing;

/// <summary>
/// A clock the test moves by hand, for leases and backoffs without waiting them out, given to a whole
/// host (<see cref="QueueFactory"/>). Only its reading is manual: its timers (TimeProvider's own
/// CreateTimer) run in real time, so the host's periodic work — the progress flush, the shared change
/// feed's polls, the event streams' idle waits, webhook polls — goes on as in production while the test
/// moves the dates the queue's rules read. FakeTimeProvider, whose timers fire only when it is advanced,
/// would stop all of that (and advancing it by a month would fire each of them at once); it serves the
/// tests of one rule without a host instead (LeaseRenewalRuleTests).
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
