using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Queue;

/// <summary>
/// /api/queue: pause and resume the whole queue (claims get nothing while running jobs go on), and
/// /api/workers/{name}/drain: tell one worker to finish its running jobs and claim no more. Admins
/// change them; any key may read the queue's state (and each worker's drain in GET /api/workers).
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
        group.MapPost("/workers/{name}/drain", Drain)
            .WithSummary("Drain a worker: its claims answer 404 with \"drain\": true and its heartbeats carry \"drain\": true, so it finishes its running jobs and exits. Stays until lifted");
        group.MapDelete("/workers/{name}/drain", Undrain)
            .WithSummary("Lift a worker's drain: it may claim again");
        return group;
    }

    private static async Task<Results<Ok<WorkerDrain>, BadRequest<ApiError>>> Drain(string name, Caller caller, QueueControl queue) =>
        JobInput.IsWorkerName(name)
            ? TypedResults.Ok(await queue.DrainAsync(name, caller.Name))
            : TypedResults.BadRequest(BadName());

    private static async Task<Results<Ok<WorkerDrain>, NotFound<ApiError>, BadRequest<ApiError>>> Undrain(string name, Caller caller, QueueControl queue)
    {
        if (!JobInput.IsWorkerName(name)) return TypedResults.BadRequest(BadName());
        return await queue.UndrainAsync(name, caller.Name) is { } drain
            ? TypedResults.Ok(drain)
            : TypedResults.NotFound(new ApiError("Worker not found"));
    }

    private static ApiError BadName() =>
        new($"A worker's name has at most {JobInput.MaxWorkerNameLength} characters and no control characters.");
}
