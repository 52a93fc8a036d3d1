using VideoEncode.Api.Auth;
using Prometheus;

namespace VideoEncode.Api.Metrics;

/// <summary>
/// GET /metrics, and request durations by route pattern (never by raw path, which would make a series per
/// job id) and final status, into the host's registry.
/// </summary>
public static class MetricsSetup
{
    /// <summary>
    /// What /metrics has always shown of requests: one histogram, videoencode_http_request_duration_seconds{method,
    /// route, status}, in the host's registry; its _count is the request counter. /metrics itself is timed too,
    /// and only requests that matched a route are — a scan of unknown paths or the pages' files must not make
    /// series. Placed before the error handling, it sees the status the client gets (a 500 or 503 that
    /// UseJsonErrors wrote).
    /// </summary>
    public static WebApplication UseRequestMetrics(this WebApplication app)
    {
        app.UseMiddleware<RequestDurations>();
        return app;
    }

    /// <summary>Prometheus text at /metrics (the key is checked by the API key middleware unless MetricsOpen).</summary>
    public static IEndpointConventionBuilder MapQueueMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapMetrics("/metrics", routes.ServiceProvider.GetRequiredService<QueueMetrics>().Registry).RequireAccess(Access.Read);
}
