using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Prometheus;

namespace VideoEncode.Api.Metrics;

/// <summary>
/// Times each request that matched a route into <see cref="QueueMetrics.RequestDurations"/> (<see cref="MetricsSetup.UseRequestMetrics"/>).
/// It replaces prometheus-net's UseHttpMetrics, which wrote the same series but, per request, copied the route
/// values into a feature, built the label values anew, looked the series up by them and recorded an exemplar:
/// with a heartbeat a second from thousands of workers that was a measurable share of the host's CPU
/// (docs/performance.md). Here a series is looked up once per method, route and status and then kept.
/// </summary>
internal sealed class RequestDurations(RequestDelegate next, QueueMetrics metrics)
{
    private readonly ConcurrentDictionary<(string Method, RouteEndpoint Route, int Status), Histogram.Child> series = new();

    public async Task InvokeAsync(HttpContext context)
    {
        // WebApplication routes before the first middleware, so the endpoint is known here.
        if (context.GetEndpoint() is not RouteEndpoint route)
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var key = (context.Request.Method, route, context.Response.StatusCode);
            if (!series.TryGetValue(key, out var child))
                child = series.GetOrAdd(key, key => metrics.RequestDurations.WithLabels(
                    key.Method, key.Route.RoutePattern.RawText ?? "", key.Status.ToString(CultureInfo.InvariantCulture)));
            child.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
