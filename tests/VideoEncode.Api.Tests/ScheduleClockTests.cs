using System.Text.Json;
using VideoEncode.Api.Schedules;

namespace VideoEncode.Api.Tests;

/// <summary>
/// A schedule's local times on the nights daylight saving changes (Europe/Berlin, 2026): a time the change skips counts as
/// that long after it, a time it repeats at its first occurrence. Pure: no host, instants given.
/// </summary>
public sealed class ScheduleClockTests
{
    private static ScheduleClock Clock(string from, string to) =>
        ScheduleClock.Of("Europe/Berlin", JsonSerializer.Serialize(new[] { new ScheduleWindow(["sun"], from, to) }, Contracts.WireJson.Options));

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void ASkippedTimeOpensAsLongAfterTheChangeAndARepeatedOneAtItsFirstOccurrence()
    {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST, so 02:30 is 03:30 CEST (01:30 UTC).
        var spring = Clock("02:30", "05:00");
        Assert.Equal(At("2026-03-29T01:30:00Z"), spring.NextOpen(At("2026-03-29T00:00:00Z")));
        Assert.Equal(At("2026-03-29T03:00:00Z"), spring.ClosesAt(At("2026-03-29T02:00:00Z")));

        // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; the window opens at the first (00:30 UTC) and,
        // ending at 04:00 CET (03:00 UTC), lasts two and a half hours.
        var autumn = Clock("02:30", "04:00");
        Assert.Equal(At("2026-10-25T00:30:00Z"), autumn.NextOpen(At("2026-10-24T22:00:00Z")));
        Assert.True(autumn.IsOpen(At("2026-10-25T01:45:00Z")));
        Assert.Equal(At("2026-10-25T03:00:00Z"), autumn.ClosesAt(At("2026-10-25T00:30:00Z")));
    }

    [Fact]
    public void WindowsThatFollowOnCloseAtTheLastOnesEnd()
    {
        var clock = ScheduleClock.Of("UTC", JsonSerializer.Serialize(new[]
        {
            new ScheduleWindow(["mon"], "22:00", "06:00"), new ScheduleWindow(["tue"], "06:00", "09:00"),
        }, Contracts.WireJson.Options));
        Assert.Equal(At("2026-05-05T09:00:00Z"), clock.ClosesAt(At("2026-05-04T23:00:00Z")));
        Assert.Equal(At("2026-05-11T22:00:00Z"), clock.NextOpen(At("2026-05-05T09:00:00Z")));
    }
}
