using VideoEncode.Api.Auth;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Stats;

/// <summary>
/// The queue at a glance: jobs per status, how long the oldest pending job has waited, and over
/// the last hour how many jobs finished, how long they waited for a worker and how long they took.
/// </summary>
public sealed record QueueStats(
    IReadOnlyDictionary<string, long> Counts,
    long Total,
    long? OldestPendingAgeSeconds,
    long FinishedLastHour,
    double? AverageWaitSeconds,
    double? AverageEncodeSeconds);

/// <summary>
/// A worker known to the host. Lost: silent for longer than its lease. Draining: told to finish its
/// running jobs and claim no more. LastSeenAt is null for a worker drained before it was ever seen.
/// Encoders: what its last claim listed (null: it listed none, so it runs only libx264 jobs of crf and preset).
/// </summary>
public sealed record WorkerInfo(string Name, long? LastSeenAt, bool Lost, IReadOnlyList<WorkerJob> Jobs, long JobsFinished, long JobsFailed, bool Draining,
    IReadOnlyList<string>? Encoders = null);

/// <summary>A job a worker is running, with its last reported progress.</summary>
public sealed record WorkerJob(long Id, string FileName, double? Progress, double? Speed, long? EtaSeconds);

/// <summary>Jobs finished and failed in each of the last <see cref="Minutes"/> minutes, oldest first.</summary>
public sealed record Throughput(IReadOnlyList<MinuteCount> PerMinute)
{
    public const int Minutes = 60;
}

/// <summary>One minute's count: <see cref="At"/> is its start in unix seconds.</summary>
public sealed record MinuteCount(long At, long Finished, long Failed);

public static class StatsApi
{
    public static RouteGroupBuilder MapStats(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Operations").RequireAccess(Access.Read);
        group.MapGet("/stats", async (StatsStore stats) => TypedResults.Ok(await stats.StatsAsync()))
            .WithSummary("Counts per status, oldest pending age, and the last hour's wait and encode times");
        group.MapGet("/stats/throughput", async (StatsStore stats) => TypedResults.Ok(await stats.ThroughputAsync()))
            .WithSummary("Jobs finished and failed per minute over the last hour, oldest minute first");
        group.MapGet("/workers", async (StatsStore stats, LiveClaims live) => TypedResults.Ok((await stats.WorkersAsync(live.WorkersSeen()))
                .Select(worker => worker with { Jobs = worker.Jobs.Select(job => live.Overlay(job, worker.Name)).ToList() }).ToList()))
            .WithSummary("Workers seen: running jobs and progress, last heartbeat, jobs finished and failed; lost when silent past their lease");
        return group;
    }
}
