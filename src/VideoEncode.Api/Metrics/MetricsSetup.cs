using VideoEncode.Api.Auth;
using System.Globalization;
using Prometheus;

namespace VideoEncode.Api.Metrics;

/// <summary>
/// GET /metrics, and request durations by route pattern (never by raw path, which would make a series per
/// job id) and final status, measured by prometheus-net's own middleware into the host's registry.
/// </summary>
public static class MetricsSetup
{
    /// <summary>
    /// prometheus-net's UseHttpMetrics, kept to what /metrics has always shown: one histogram,
    /// videoencode_http_request_duration_seconds{method, route, status}, in the host's registry. Its
    /// request counter and in-progress gauge stay off (the histogram's _count is the counter), /metrics
    /// itself is timed too, and only requests that matched a route are — as before, a scan of unknown
    /// paths or the pages' files must not make series. Placed before the error handling, it sees the
    /// status the client gets (a 500 or 503 that UseJsonErrors wrote).
    /// </summary>
    public static WebApplication UseRequestMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<QueueMetrics>();
        // WebApplication routes before the first middleware, so the endpoint is known here.
        app.UseWhen(context => context.GetEndpoint() is RouteEndpoint, routed => routed.UseHttpMetrics(options =>
        {
            options.RequestCount.Enabled = false;
            options.InProgress.Enabled = false;
            options.CaptureMetricsUrl = true;
            options.RequestDuration.Histogram = metrics.RequestDurations;
            options.AddCustomLabel(QueueMetrics.RouteLabel, context => ((RouteEndpoint)context.GetEndpoint()!).RoutePattern.RawText ?? "");
            options.AddCustomLabel(QueueMetrics.StatusLabel, context => context.Response.StatusCode.ToString(CultureInfo.InvariantCulture));
        }));
        return app;
    }

    /// <summary>Prometheus text at /metrics (the key is checked by the API key middleware unless MetricsOpen).</summary>
    public static IEndpointConventionBuilder MapQueueMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapMetrics("/metrics", routes.ServiceProvider.GetRequiredService<QueueMetrics>().Registry).RequireAccess(Access.Read);
}
