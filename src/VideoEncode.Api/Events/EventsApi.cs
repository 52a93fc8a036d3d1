using VideoEncode.Api.Auth;
using System.Globalization;
using System.Text;

namespace VideoEncode.Api.Events;

/// <summary>
/// GET /api/events: job changes as Server-Sent Events — "created", "claimed", "progress",
/// "finished", "failed", "cancelled", "requeued", "updated", "deleted" — each with an id. A client
/// that reconnects with the Last-Event-ID header gets what it missed from the replay window, or a
/// "reset" event when that is gone (it should then reload what it shows). A comment every 15 s
/// keeps proxies from closing an idle stream. It needs the API key like every /api route, so
/// browsers read it with fetch(), which can send the header (EventSource cannot).
/// </summary>
public static class EventsApi
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static RouteHandlerBuilder MapEvents(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/events", Stream)
            .WithTags("Events")
            .RequireAccess(Access.Read)
            .WithSummary("Job changes as Server-Sent Events (resume with Last-Event-ID)")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");

    private static async Task Stream(HttpContext context, JobEvents events, IHostApplicationLifetime lifetime, CancellationToken requestAborted)
    {
        // End with the host, too: an open stream would otherwise hold shutdown up for its whole timeout.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var aborted = ending.Token;
        long? after = long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not hold the stream back

        using var feed = events.Subscribe(after);
        try
        {
            await response.WriteAsync(": connected\n\n", aborted);
            if (feed.Missed) await WriteAsync(response, new JobEvent(feed.CurrentId, "reset", "{}"), aborted);
            foreach (var missed in feed.Replay) await WriteAsync(response, missed, aborted);
            await response.Body.FlushAsync(aborted);
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                wait.CancelAfter(KeepAlive);
                try
                {
                    if (!await feed.Live.WaitToReadAsync(wait.Token)) return; // cut off for being too slow
                    while (feed.Live.TryRead(out var next)) await WriteAsync(response, next, aborted);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                }
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static Task WriteAsync(HttpResponse response, JobEvent item, CancellationToken aborted) =>
        response.WriteAsync(new StringBuilder()
            .Append(item.Id == JobEvent.NoId ? "" : $"id: {item.Id.ToString(CultureInfo.InvariantCulture)}\n")
            .Append("event: ").Append(item.Type).Append('\n')
            .Append("data: ").Append(item.Data).Append("\n\n")
            .ToString(), aborted);
}
