using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Api.Jobs.Http;

namespace VideoEncode.Api.Schedules;

/// <summary>
/// /api/schedule and /api/workers/{name}/schedule: when the queue, or one worker, gets work (docs/schedules.md). Admins set and
/// remove them; any key may read them. Outside its schedule a claim answers 404 with "reason": "outside schedule" and "opens_at".
/// </summary>
public static class SchedulesApi
{
    private const int MaxBodyBytes = 16 * 1024;

    public static RouteGroupBuilder MapSchedules(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Queue").RequireAccess(Access.Admin);
        group.MapGet("/schedule", (ScheduleStore schedules) => Read(schedules, ScheduleBook.Queue))
            .RequireAccess(Access.Read)
            .WithSummary("The queue's schedule, whether it is open now and when it next opens or closes; 404 when none is set (always open)");
        group.MapPut("/schedule", (HttpRequest request, Caller caller, ScheduleStore schedules) => Set(request, caller, schedules, ScheduleBook.Queue))
            .WithMetadata(new RequestBodyDocumentation(typeof(Schedule)))
            .WithSummary("Set when the queue hands out work: {\"time_zone\", \"windows\": [{\"days\", \"from\", \"to\"}]} (windows may cross midnight; [] means always)");
        group.MapDelete("/schedule", (Caller caller, ScheduleStore schedules) => Delete(caller, schedules, ScheduleBook.Queue))
            .WithSummary("Remove the queue's schedule: work is handed out at any time");
        group.MapGet("/workers/{name}/schedule", (string name, ScheduleStore schedules) =>
                JobInput.IsWorkerName(name) ? Read(schedules, name) : Task.FromResult<Results<Ok<ScheduleView>, NotFound<ApiError>, BadRequest<ApiError>>>(BadName()))
            .RequireAccess(Access.Read)
            .WithSummary("One worker's schedule (held on top of the queue's); 404 when none is set");
        group.MapPut("/workers/{name}/schedule", (string name, HttpRequest request, Caller caller, ScheduleStore schedules) =>
                JobInput.IsWorkerName(name) ? Set(request, caller, schedules, name) : Task.FromResult<Results<Ok<ScheduleView>, BadRequest<ApiError>, JsonHttpResult<ApiError>>>(BadName()))
            .WithMetadata(new RequestBodyDocumentation(typeof(Schedule)))
            .WithSummary("Set when one worker gets work, as PUT /api/schedule; its claims need both its schedule and the queue's open");
        group.MapDelete("/workers/{name}/schedule", (string name, Caller caller, ScheduleStore schedules) =>
                JobInput.IsWorkerName(name) ? Delete(caller, schedules, name) : Task.FromResult<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>>(BadName()))
            .WithSummary("Remove one worker's schedule");
        return group;
    }

    private static async Task<Results<Ok<ScheduleView>, NotFound<ApiError>, BadRequest<ApiError>>> Read(ScheduleStore schedules, string worker) =>
        await schedules.ReadAsync(worker) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound(new ApiError("No schedule is set: work is handed out at any time."));

    private static async Task<Results<Ok<ScheduleView>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Set(HttpRequest request, Caller caller,
        ScheduleStore schedules, string worker)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (schedule, error) = ScheduleClock.Parse(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(new ApiError(error));
            return TypedResults.Ok(await schedules.SetAsync(worker, schedule!, caller.Name));
        }
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>> Delete(Caller caller, ScheduleStore schedules, string worker) =>
        await schedules.DeleteAsync(worker, caller.Name)
            ? TypedResults.Ok(new SuccessMessage("Schedule removed"))
            : TypedResults.NotFound(new ApiError("No schedule is set."));

    private static BadRequest<ApiError> BadName() =>
        TypedResults.BadRequest(new ApiError($"A worker's name has at most {JobInput.MaxWorkerNameLength} characters and no control characters."));
}
