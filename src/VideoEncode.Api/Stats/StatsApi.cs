using VideoEncode.Api.Auth;

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
        return group;
    }
}
