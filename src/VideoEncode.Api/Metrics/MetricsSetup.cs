using System.Diagnostics;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Metrics;

/// <summary>GET /metrics, and the middleware that times every request by its route pattern (never by raw path, which would make a series per job id).</summary>
public static class MetricsSetup
{
    public static WebApplication UseRequestMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<QueueMetrics>();
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                if (context.GetEndpoint() is RouteEndpoint endpoint)
                    metrics.Request(context.Request.Method, endpoint.RoutePattern.RawText ?? "", context.Response.StatusCode,
                        Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        });
        return app;
    }

    public static RouteHandlerBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/metrics", async (QueueMetrics metrics, JobStore store) =>
                TypedResults.Text(metrics.Render(await store.CountByStatusAsync()), "text/plain; version=0.0.4; charset=utf-8"))
            .WithTags("Operations")
            .WithSummary("Prometheus metrics (needs the API key unless MetricsOpen is set)");
}
