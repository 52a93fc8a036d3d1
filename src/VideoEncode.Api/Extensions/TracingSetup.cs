using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Extensions;

/// <summary>
/// OpenTelemetry tracing (<see cref="Tracing"/>), off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then ASP.NET Core's
/// span of each request is exported over OTLP, continuing the traceparent a worker sends, so a job attempt's claim,
/// heartbeats, transfers and finish sit in the worker's trace. The other standard OTEL_* variables apply.
/// </summary>
public static class TracingSetup
{
    public static WebApplicationBuilder AddTracing(this WebApplicationBuilder builder)
    {
        if (!Tracing.Requested(name => builder.Configuration[name])) return builder;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("videoencode-host", serviceVersion: Versions.Product))
            .WithTracing(tracing => tracing.AddSource(Tracing.HostRequestSource).AddOtlpExporter());
        return builder;
    }
}
