using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;

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
        group.MapPost("/queue/pause", Pause)
            .WithMetadata(new RequestBodyDocumentation(typeof(PauseRequest)))
            .WithSummary("Pause the queue: claims answer 404 (long polls keep waiting) until resumed, or for {\"minutes\": N} only; running jobs go on. Idempotent");
        group.MapPost("/queue/resume", async (Caller caller, QueueControl queue) => TypedResults.Ok(await queue.ResumeAsync(caller.Name)))
            .WithSummary("Resume the queue: claims get jobs again, and waiting claims are woken. Idempotent");
        return group;
    }

    /// <summary>Without a body, a pause until resumed; with {"minutes": N}, one that ends by itself N minutes on (across restarts too).</summary>
    private static async Task<Results<Ok<QueueState>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Pause(HttpRequest request, Caller caller, QueueControl queue)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, maxBytes: 1024, optional: true);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            int? minutes = null;
            if (document?.RootElement is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("minutes", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                if (given.ValueKind != JsonValueKind.Number || !given.TryGetInt32(out var length) || length is < 1 or > QueueControl.MaxPauseMinutes)
                    return TypedResults.BadRequest(new ApiError($"minutes must be a whole number from 1 to {QueueControl.MaxPauseMinutes}.") { Field = "minutes" });
                minutes = length;
            }
            else if (document is not null && document.RootElement.ValueKind != JsonValueKind.Object)
                return TypedResults.BadRequest(new ApiError("Send no body, or {\"minutes\": N}."));
            return TypedResults.Ok(await queue.PauseAsync(caller.Name, minutes));
        }
    }
}

/// <summary>POST /api/queue/pause's optional body: the pause ends by itself after <see cref="Minutes"/>.</summary>
public sealed record PauseRequest(int? Minutes);
