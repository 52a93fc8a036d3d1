using VideoEncode.Api.Auth;

namespace VideoEncode.Api.Queue;

/// <summary>
/// /api/queue: pause and resume the whole queue (claims get nothing while running jobs go on). Admins
/// change it; any key may read the queue's state. (One worker's drain is in Workers/.)
/// </summary>
public static class QueueApi
{
    public static RouteGroupBuilder MapQueue(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Queue").RequireAccess(Access.Admin);
        group.MapGet("/queue", async (QueueControl queue) => TypedResults.Ok(await queue.StateAsync()))
            .RequireAccess(Access.Read)
            .WithSummary("Whether the queue is paused, since when and by which key");
        group.MapPost("/queue/pause", async (Caller caller, QueueControl queue) => TypedResults.Ok(await queue.PauseAsync(caller.Name)))
            .WithSummary("Pause the queue: claims answer 404 (long polls keep waiting) until resumed; running jobs go on. Idempotent");
        group.MapPost("/queue/resume", async (Caller caller, QueueControl queue) => TypedResults.Ok(await queue.ResumeAsync(caller.Name)))
            .WithSummary("Resume the queue: claims get jobs again, and waiting claims are woken. Idempotent");
        return group;
    }
}
