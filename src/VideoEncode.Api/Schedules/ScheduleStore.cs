using VideoEncode.Api.Audit;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Schedules;

/// <summary>
/// Setting, reading and removing the queue's schedule and workers' (<see cref="ScheduleBook"/>), each change recorded in the audit
/// trail. A change wakes the claims waiting on this host, which may now get work (or learn they may not).
/// </summary>
public sealed class ScheduleStore(IStoreSql store, TimeProvider clock, ClaimWaiters waiters)
{
    public Task<ScheduleView?> ReadAsync(string worker) => store.ReadAsync(connection => ScheduleBook.ReadAsync(connection, worker, clock.GetUtcNow()));

    public Task<IReadOnlyList<ScheduleView>> ReadWorkersAsync() => store.ReadAsync(connection => ScheduleBook.ReadWorkersAsync(connection, clock.GetUtcNow()));

    public async Task<ScheduleView> SetAsync(string worker, Schedule schedule, string actor)
    {
        var now = clock.GetUtcNow();
        var view = await store.WriteAsync(async connection =>
        {
            await ScheduleBook.SetAsync(connection, worker, schedule, now.ToUnixTimeSeconds(), actor);
            await AuditTrail.RecordAsync(connection, now.ToUnixTimeSeconds(), actor, "schedule.set", Target(worker),
                $"{schedule.TimeZone}, {schedule.Windows.Count} windows");
            return (await ScheduleBook.ReadAsync(connection, worker, now))!;
        });
        waiters.Wake(int.MaxValue);
        return view;
    }

    public async Task<bool> DeleteAsync(string worker, string actor)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var deleted = await store.WriteAsync(async connection =>
        {
            if (!await ScheduleBook.DeleteAsync(connection, worker)) return false;
            await AuditTrail.RecordAsync(connection, now, actor, "schedule.delete", Target(worker));
            return true;
        });
        if (deleted) waiters.Wake(int.MaxValue);
        return deleted;
    }

    private static string Target(string worker) => worker == ScheduleBook.Queue ? "queue" : $"worker {worker}";
}
