namespace VideoEncode.Testing;

/// <summary>A clock the test moves by hand, for leases and backoffs without waiting them out.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
