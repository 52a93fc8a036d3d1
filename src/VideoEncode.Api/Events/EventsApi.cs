using VideoEncode.Api.Auth;
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Events;

/// <summary>
/// GET /api/events: job changes as Server-Sent Events — "created", "claimed", "progress",
/// "finished", "failed", "cancelled", "requeued", "updated", "deleted" — each with an id but
/// "progress", which passes (no id, not replayed: the next heartbeat supersedes it). A client
/// that reconnects with the Last-Event-ID header gets what it missed from the replay window, or a
/// "reset" event when that is gone (it should then reload what it shows). A reader too slow to keep
/// up is sent a "reset" and the response ends (<see cref="StreamQueue"/>). A comment every
/// EventKeepAliveSeconds (15 s) keeps proxies from closing an idle stream. It needs the API key like
/// every /api route, so browsers read it with fetch(), which can send the header (EventSource cannot);
/// the key is asked again at each keep-alive, and the stream of a key revoked meanwhile ends.
/// </summary>
public static class EventsApi
{

    public static RouteHandlerBuilder MapEvents(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/events", Stream)
            .WithTags("Events")
            .RequireAccess(Access.Read)
            .WithSummary("Job changes as Server-Sent Events (resume with Last-Event-ID)")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");

    private static async Task Stream(HttpContext context, JobEvents events, KeyRing keys, IOptions<QueueOptions> options, TimeProvider clock,
        IHostApplicationLifetime lifetime, CancellationToken requestAborted)
    {
        var keepAlive = TimeSpan.FromSeconds(options.Value.EventKeepAliveSeconds);
        // End with the host, too: an open stream would otherwise hold shutdown up for its whole timeout.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var aborted = ending.Token;
        long? after = long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not hold the stream back

        using var feed = events.Subscribe(after);
        // Writes also give up when a dropped reader has not taken its reset in time (its socket is full).
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(aborted, feed.Live.Deadline);
        var output = response.BodyWriter;
        try
        {
            output.Write(Connected);
            if (feed.Missed) output.Write(JobEvent.Reset(feed.CurrentId).Sse.Span);
            if (!await WriteAllAsync(output, feed.TakeReplay(), writing.Token)) return;
            var batch = new List<JobEvent>();
            var keyCheckedAt = clock.GetTimestamp();
            while (true)
            {
                var woken = await feed.Live.WaitAsync(keepAlive, aborted);
                // The key was checked once, when the stream opened: it is asked again at each keep-alive, and as
                // often on a busy stream, so a key revoked while its stream is open stops being served within that time.
                if (!woken || clock.GetElapsedTime(keyCheckedAt) >= keepAlive)
                {
                    if (!await keys.StillWorksAsync(context.Request))
                    {
                        output.Write(KeyRevokedComment);
                        await output.FlushAsync(writing.Token);
                        return;
                    }
                    keyCheckedAt = clock.GetTimestamp();
                }
                if (!woken)
                {
                    output.Write(KeepAliveComment);
                    if ((await output.FlushAsync(writing.Token)).IsCompleted) return;
                    continue;
                }
                if (feed.Live.TakeAll(ref batch) is { } reset)
                {
                    // Dropped for being too slow: the reset, then the end of the response; the client reloads and reconnects.
                    output.Write(reset.Sse.Span);
                    await output.FlushAsync(writing.Token);
                    return;
                }
                if (!await WriteAllAsync(output, batch, writing.Token)) return;
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (writing.IsCancellationRequested)
        {
            // The client went away, the host is stopping, or a dropped reader did not take its reset in time.
        }
    }

    private static ReadOnlySpan<byte> Connected => ": connected\n\n"u8;
    private static ReadOnlySpan<byte> KeepAliveComment => ": keep-alive\n\n"u8;
    private static ReadOnlySpan<byte> KeyRevokedComment => ": the API key no longer works\n\n"u8;

    // Kestrel's own response buffer is 64 KB: a long batch is flushed as it fills, so the pipe never holds more than that.
    private const int FlushEvery = 64 * 1024;

    /// <summary>Writes the events' shared bytes in one go and flushes (also every 64 KB); false when the client has gone.</summary>
    private static async Task<bool> WriteAllAsync(PipeWriter output, IReadOnlyList<JobEvent> items, CancellationToken cancel)
    {
        var unflushed = 0;
        foreach (var item in items)
        {
            var bytes = item.Sse;
            output.Write(bytes.Span);
            unflushed += bytes.Length;
            if (unflushed < FlushEvery) continue;
            if ((await output.FlushAsync(cancel)).IsCompleted) return false;
            unflushed = 0;
        }
        return !(await output.FlushAsync(cancel)).IsCompleted;
    }
}
