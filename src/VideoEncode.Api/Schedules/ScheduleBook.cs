using System.Data.Common;
using System.Text.Json;
using Dapper;

namespace VideoEncode.Api.Schedules;

/// <summary>
/// The schedules in the store (table schedules: worker '' is the whole queue's), in statements both stores run word for word.
/// A claim asks <see cref="ClosedUntilAsync"/> inside its own write, so a claim racing a change of schedule is judged by what
/// was committed when it ran.
/// </summary>
public static class ScheduleBook
{
    /// <summary>The schedules table's worker for the whole queue's schedule.</summary>
    public const string Queue = "";

    private sealed class Row
    {
        public string Worker { get; init; } = "";
        public string TimeZone { get; init; } = "";
        public string Windows { get; init; } = "[]";
        public long UpdatedAt { get; init; }
        public string? UpdatedBy { get; init; }

        public ScheduleClock Clock => ScheduleClock.Of(TimeZone, Windows);
    }

    private const string Select = "SELECT worker, time_zone, windows, updated_at, updated_by FROM schedules";

    /// <summary>
    /// Whether a claim by <paramref name="worker"/> (null: unnamed, held to the queue's schedule only) is outside its schedules
    /// at <paramref name="now"/>, and if so when they next are all open (null: never). Not closed when no schedule is set.
    /// </summary>
    public static async Task<(bool Closed, DateTimeOffset? OpensAt)> ClosedUntilAsync(DbConnection connection, string? worker, DateTimeOffset now)
    {
        var clocks = (await connection.QueryAsync<Row>($"{Select} WHERE worker = '' OR worker = @worker", new { worker = worker ?? Queue }))
            .Select(row => row.Clock).Where(clock => !clock.Always).ToList();
        if (clocks.Count == 0 || clocks.All(clock => clock.IsOpen(now))) return (false, null);
        return (true, ScheduleClock.NextOpenOfAll(clocks, now));
    }

    /// <summary>The schedule of the queue (<see cref="Queue"/>) or of a worker, as GET answers it; null when none is set.</summary>
    public static async Task<ScheduleView?> ReadAsync(DbConnection connection, string worker, DateTimeOffset now) =>
        (await connection.QuerySingleOrDefaultAsync<Row>($"{Select} WHERE worker = @worker", new { worker })) is { } row ? View(row, now) : null;

    /// <summary>Every worker's schedule (not the queue's), by worker name.</summary>
    public static async Task<IReadOnlyList<ScheduleView>> ReadWorkersAsync(DbConnection connection, DateTimeOffset now) =>
        (await connection.QueryAsync<Row>($"{Select} WHERE worker <> '' ORDER BY worker")).Select(row => View(row, now)).ToList();

    private static ScheduleView View(Row row, DateTimeOffset now)
    {
        var clock = row.Clock;
        var open = clock.IsOpen(now);
        return new ScheduleView(row.Worker == Queue ? null : row.Worker, row.TimeZone,
            JsonSerializer.Deserialize<List<ScheduleWindow>>(row.Windows, Contracts.WireJson.Options) ?? [], open,
            open ? null : clock.NextOpen(now)?.ToUnixTimeSeconds(), open ? clock.ClosesAt(now)?.ToUnixTimeSeconds() : null, row.UpdatedAt, row.UpdatedBy);
    }

    public static Task SetAsync(DbConnection connection, string worker, Schedule schedule, long now, string actor) =>
        connection.ExecuteAsync("""
            INSERT INTO schedules (worker, time_zone, windows, updated_at, updated_by) VALUES (@worker, @zone, @windows, @now, @actor)
            ON CONFLICT (worker) DO UPDATE SET time_zone = excluded.time_zone, windows = excluded.windows,
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """, new { worker, zone = schedule.TimeZone, windows = JsonSerializer.Serialize(schedule.Windows, Contracts.WireJson.Options), now, actor });

    /// <summary>Removes a schedule; false when there was none.</summary>
    public static async Task<bool> DeleteAsync(DbConnection connection, string worker) =>
        await connection.ExecuteAsync("DELETE FROM schedules WHERE worker = @worker", new { worker }) == 1;
}
