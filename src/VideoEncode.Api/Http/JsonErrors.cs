using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Api.Database.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Http;

/// <summary>
/// Makes the answers nobody wrote by hand keep the {"error": ...} shape: unhandled exceptions
/// (500, never a stack trace), malformed requests the framework rejects, empty 404/405s under /api,
/// and an overloaded writer or an unreachable PostgreSQL (503 with Retry-After).
/// </summary>
internal static class JsonErrors
{
    /// <summary>How long an overloaded host asks clients to wait before trying again.</summary>
    private const int RetryAfterSeconds = 1;

    public static WebApplication UseJsonErrors(this WebApplication app)
    {
        app.UseExceptionHandler(handler => handler.Run(context =>
        {
            var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, message) = exception is BadHttpRequestException bad
                ? (bad.StatusCode, bad.Message)
                : (StatusCodes.Status500InternalServerError, "Internal server error.");
            return Write(context, status, message);
        }));
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            if (context.Request.Path.StartsWithSegments("/api"))
                await Write(context, context.Response.StatusCode,
                    ReasonPhrases.GetReasonPhrase(context.Response.StatusCode));
        });
        // Inside the exception handler, so these never reach it as failures.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (WriterBusyException busy) when (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Write(context, StatusCodes.Status503ServiceUnavailable, busy.Message);
            }
            catch (PostgresException collision) when (PostgresDatabase.IsCollision(collision) && !context.Response.HasStarted)
            {
                // Lost a race with other hosts several times over: nothing was written; try again.
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Write(context, StatusCodes.Status503ServiceUnavailable, "The queue is busy with the same jobs right now; try again in a moment.");
            }
            catch (NpgsqlException unreachable) when (unreachable.IsTransient && !context.Response.HasStarted)
            {
                // A shared PostgreSQL store that is down, restarting or out of connections. A write cut off in its
                // commit may have landed; a repeat is safe (fenced steps, Idempotency-Key on enqueues).
                context.RequestServices.GetRequiredService<ILogger<WebApplication>>()
                    .LogWarning(unreachable, "The PostgreSQL store did not answer; the request was refused with 503.");
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Write(context, StatusCodes.Status503ServiceUnavailable, "The database is not reachable; try again in a moment.");
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away (its queued write was dropped): nobody to answer, nothing to log.
            }
        });
        return app;
    }

    private static Task Write(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ApiError(message), WireJson.Options);
    }
}
