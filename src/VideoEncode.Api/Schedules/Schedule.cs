using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace VideoEncode.Api.Schedules;

/// <summary>
/// One window of a schedule: on each of <see cref="Days"/> ("mon" … "sun"; the day it opens), from <see cref="From"/> to
/// <see cref="To"/> ("HH:MM", local time in the schedule's zone). A window whose To is not after its From ends the next day
/// (22:00–06:00 runs through midnight); From equal to To is a whole day; To may be "24:00".
/// </summary>
public sealed record ScheduleWindow(IReadOnlyList<string> Days, string From, string To);

/// <summary>
/// When the queue (or one worker) gets work: <see cref="Windows"/> in <see cref="TimeZone"/> (an IANA id, daylight-saving
/// changes included). An empty list of windows means always.
/// </summary>
public sealed record Schedule(string TimeZone, IReadOnlyList<ScheduleWindow> Windows);

/// <summary>
/// A schedule as GET answers it: the schedule, whether it is open now, when it next opens (while closed) or closes (while open;
/// null when it never does), unix seconds, and who set it when. <see cref="Worker"/> is null for the queue's.
/// </summary>
public sealed record ScheduleView(string? Worker, string TimeZone, IReadOnlyList<ScheduleWindow> Windows, bool Open, long? OpensAt, long? ClosesAt,
    long UpdatedAt, string? UpdatedBy);

/// <summary>
/// The rules of schedules as pure functions of a time: reading one from a request, and when it is open. Local times are made
/// instants by the zone's rules: a time that a spring-forward change skips counts as that long after the change (02:30 on the
/// night clocks go from 02:00 to 03:00 is 03:30), and one that a fall-back change repeats counts at its first occurrence.
/// </summary>
public sealed class ScheduleClock
{
    public const int MaxWindows = 50;

    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>How many times a window may hand over to the next before "closes" is called never (a week of windows end to end).</summary>
    private const int MaxHandOvers = 8;

    private readonly TimeZoneInfo zone;
    private readonly (bool[] Days, TimeSpan From, TimeSpan Length)[] windows;

    private ScheduleClock(TimeZoneInfo zone, (bool[], TimeSpan, TimeSpan)[] windows) => (this.zone, this.windows) = (zone, windows);

    private static readonly ConcurrentDictionary<(string, string), ScheduleClock> Compiled = new();

    /// <summary>The clock of a stored schedule (its zone and windows' JSON, as <see cref="Parse"/> accepted them), compiled once.</summary>
    public static ScheduleClock Of(string timeZone, string windowsJson)
    {
        if (Compiled.TryGetValue((timeZone, windowsJson), out var known)) return known;
        var windows = JsonSerializer.Deserialize<List<ScheduleWindow>>(windowsJson, Contracts.WireJson.Options) ?? [];
        var clock = Compile(TimeZoneInfo.FindSystemTimeZoneById(timeZone), windows);
        if (Compiled.Count > 1000) Compiled.Clear();
        return Compiled[(timeZone, windowsJson)] = clock;
    }

    private static ScheduleClock Compile(TimeZoneInfo zone, IReadOnlyList<ScheduleWindow> windows) =>
        new(zone, windows.Select(window =>
        {
            var from = Time(window.From)!.Value;
            var to = Time(window.To)!.Value;
            var days = new bool[7];
            foreach (var day in window.Days) days[Array.IndexOf(DayNames, day)] = true;
            return (days, from, to > from ? to - from : to - from + TimeSpan.FromDays(1));
        }).ToArray());

    /// <summary>A schedule from a request: {"time_zone", "windows": [{"days", "from", "to"}]}, each part checked, or why not.</summary>
    public static (Schedule? Schedule, string? Error) Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object
            || !body.TryGetProperty("time_zone", out var zoneName) || zoneName.ValueKind != JsonValueKind.String
            || !body.TryGetProperty("windows", out var list) || list.ValueKind != JsonValueKind.Array)
            return (null, "Send {\"time_zone\": \"Europe/Berlin\", \"windows\": [{\"days\": [\"mon\", …], \"from\": \"22:00\", \"to\": \"06:00\"}]}; an empty list of windows means always.");
        if (!TryZone(zoneName.GetString()!, out _))
            return (null, $"time_zone '{zoneName.GetString()}' is not a time zone of the IANA database (Europe/Berlin, America/New_York, UTC …).");
        if (list.GetArrayLength() > MaxWindows) return (null, $"A schedule has at most {MaxWindows} windows.");
        var windows = new List<ScheduleWindow>();
        foreach (var item in list.EnumerateArray())
        {
            var at = $"windows[{windows.Count}]";
            if (item.ValueKind != JsonValueKind.Object) return (null, $"{at} must be an object {{\"days\", \"from\", \"to\"}}.");
            var days = new List<string>();
            if (item.TryGetProperty("days", out var given))
            {
                if (given.ValueKind != JsonValueKind.Array || given.GetArrayLength() == 0
                    || given.EnumerateArray().Any(day => day.ValueKind != JsonValueKind.String || !DayNames.Contains(day.GetString())))
                    return (null, $"{at}.days must list one or more of: {string.Join(", ", DayNames.Skip(1).Append(DayNames[0]))} (left out: every day).");
                days.AddRange(given.EnumerateArray().Select(day => day.GetString()!).Distinct());
            }
            else days.AddRange(DayNames.Skip(1).Append(DayNames[0]));
            string? from = null, to = null;
            foreach (var (field, maxHour) in new[] { ("from", 23), ("to", 24) })
            {
                var time = item.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                if (time is null || Time(time) is not { } parsed || parsed.TotalHours > maxHour)
                    return (null, $"{at}.{field} must be a time \"HH:MM\" from 00:00 to {(maxHour == 24 ? "24:00" : "23:59")}.");
                if (field == "from") from = time; else to = time;
            }
            windows.Add(new ScheduleWindow(days, from!, to!));
        }
        return (new Schedule(zoneName.GetString()!, windows), null);
    }

    private static bool TryZone(string id, out TimeZoneInfo? zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            zone = null;
            return false;
        }
    }

    /// <summary>"HH:MM" as a time of day (24:00 allowed), or null.</summary>
    private static TimeSpan? Time(string text) =>
        text.Length == 5 && text[2] == ':' && int.TryParse(text.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
        && int.TryParse(text.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) && minutes < 60 && hours <= 24
        && (hours < 24 || minutes == 0)
            ? new TimeSpan(hours, minutes, 0)
            : null;

    /// <summary>Always open: no windows.</summary>
    public bool Always => windows.Length == 0;

    /// <summary>The windows that open on the local days around <paramref name="at"/> (the day before to a week after), as instants.</summary>
    private IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> Intervals(DateTimeOffset at)
    {
        var today = TimeZoneInfo.ConvertTime(at, zone).DateTime.Date;
        for (var date = today.AddDays(-1); date <= today.AddDays(8); date = date.AddDays(1))
            foreach (var (days, from, length) in windows)
                if (days[(int)date.DayOfWeek])
                    yield return (Instant(date + from), Instant(date + from + length));
    }

    /// <summary>A local time in the zone as an instant: skipped times after the change by as much, repeated ones at their first occurrence.</summary>
    private DateTimeOffset Instant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local)) return new DateTimeOffset(local, zone.GetUtcOffset(local.AddHours(-3)));
        if (zone.IsAmbiguousTime(local)) return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    public bool IsOpen(DateTimeOffset at) => Always || Intervals(at).Any(window => window.Start <= at && at < window.End);

    /// <summary>When the schedule next opens: <paramref name="at"/> itself while open; null when no window ever opens.</summary>
    public DateTimeOffset? NextOpen(DateTimeOffset at)
    {
        if (IsOpen(at)) return at;
        var starts = Intervals(at).Where(window => window.Start > at).Select(window => window.Start).ToList();
        return starts.Count == 0 ? null : starts.Min();
    }

    /// <summary>When the schedule closes, open at <paramref name="at"/>: the end of the windows that follow on from each other; null when it never does.</summary>
    public DateTimeOffset? ClosesAt(DateTimeOffset at)
    {
        if (Always) return null;
        var end = at;
        for (var handOver = 0; handOver < MaxHandOvers; handOver++)
        {
            var current = end;
            var holding = Intervals(current).Where(window => window.Start <= current && current < window.End).ToList();
            if (holding.Count == 0) return handOver == 0 ? null : current;
            end = holding.Max(window => window.End);
        }
        return null;
    }

    /// <summary>When every one of <paramref name="clocks"/> is open at once, from <paramref name="at"/> on (the queue's and a worker's); null: never.</summary>
    public static DateTimeOffset? NextOpenOfAll(IReadOnlyList<ScheduleClock> clocks, DateTimeOffset at)
    {
        var time = at;
        for (var round = 0; round < 64; round++)
        {
            var moved = false;
            foreach (var clock in clocks)
            {
                if (clock.IsOpen(time)) continue;
                if (clock.NextOpen(time) is not { } opens) return null;
                time = opens;
                moved = true;
            }
            if (!moved) return time;
        }
        return null;
    }
}
