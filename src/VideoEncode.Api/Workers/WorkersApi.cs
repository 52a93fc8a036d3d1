using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Jobs.Http;
using VideoEncode.Api.Jobs.Heartbeats;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Schedules;

namespace VideoEncode.Api.Workers;

/// <summary>
/// GET /api/workers: the workers seen, for any key; /api/workers/{name}/drain: tell one worker to finish
/// its running jobs and claim no more, or lift that (admins).
/// </summary>
public static class WorkersApi
{
    public static RouteGroupBuilder MapWorkers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").RequireAccess(Access.Admin);
        group.MapGet("/workers", List)
            .WithTags("Operations")
            .RequireAccess(Access.Read)
            .WithSummary("Workers seen: running jobs and progress, last heartbeat, jobs finished and failed, schedule; lost when silent past their lease");
        group.MapPost("/workers/{name}/drain", Drain)
            .WithTags("Queue")
            .WithSummary("Drain a worker: its claims answer 404 with \"drain\": true and its heartbeats carry \"drain\": true, so it finishes its running jobs and exits. Stays until lifted");
        group.MapDelete("/workers/{name}/drain", Undrain)
            .WithTags("Queue")
            .WithSummary("Lift a worker's drain: it may claim again");
        return group;
    }

    /// <summary>The list with the sightings and progress this host holds in memory and has not written yet, and each worker's schedule.</summary>
    private static async Task<Ok<List<WorkerInfo>>> List(WorkerList workers, LiveClaims live, ScheduleStore schedules)
    {
        var scheduleOf = (await schedules.ReadWorkersAsync()).ToDictionary(schedule => schedule.Worker!);
        return TypedResults.Ok((await workers.ListAsync(live.WorkersSeen()))
            .Select(worker => worker with
            {
                Jobs = worker.Jobs.Select(job => live.Overlay(job, worker.Name)).ToList(),
                Schedule = scheduleOf.GetValueOrDefault(worker.Name),
            }).ToList());
    }

    private static async Task<Results<Ok<WorkerDrain>, BadRequest<ApiError>>> Drain(string name, Caller caller, WorkerDrains drains) =>
        JobInput.IsWorkerName(name)
            ? TypedResults.Ok(await drains.DrainAsync(name, caller.Name))
            : TypedResults.BadRequest(BadName());

    private static async Task<Results<Ok<WorkerDrain>, NotFound<ApiError>, BadRequest<ApiError>>> Undrain(string name, Caller caller, WorkerDrains drains)
    {
        if (!JobInput.IsWorkerName(name)) return TypedResults.BadRequest(BadName());
        return await drains.UndrainAsync(name, caller.Name) is { } drain
            ? TypedResults.Ok(drain)
            : TypedResults.NotFound(new ApiError("Worker not found"));
    }

    private static ApiError BadName() =>
        new($"A worker's name has at most {JobInput.MaxWorkerNameLength} characters and no control characters.");
}
