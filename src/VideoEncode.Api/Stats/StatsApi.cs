using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Stats;

/// <summary>The queue at a glance: how many jobs are in each status.</summary>
public sealed record QueueStats(IReadOnlyDictionary<string, long> Counts, long Total);

public static class StatsApi
{
    public static RouteGroupBuilder MapStats(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/stats").WithTags("Stats");
        group.MapGet("/", Get).WithSummary("Counts of jobs per status");
        return group;
    }

    private static async Task<Ok<QueueStats>> Get(JobStore store)
    {
        var counts = await store.CountByStatusAsync();
        return TypedResults.Ok(new QueueStats(counts, counts.Values.Sum()));
    }
}
