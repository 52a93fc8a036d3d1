using VideoEncode.Api.Auth;
using System.Diagnostics;
using Prometheus;

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

    /// <summary>Prometheus text at /metrics (the key is checked by the API key middleware unless MetricsOpen).</summary>
    public static IEndpointConventionBuilder MapQueueMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapMetrics("/metrics", routes.ServiceProvider.GetRequiredService<QueueMetrics>().Registry).RequireAccess(Access.Read);
}
