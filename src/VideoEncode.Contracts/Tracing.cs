namespace VideoEncode.Contracts;

/// <summary>
/// OpenTelemetry tracing, shared names: off unless the standard OTEL_EXPORTER_OTLP_ENDPOINT (or its traces
/// variant) is set, in which case host and worker export over OTLP with the other standard OTEL_* variables.
/// One trace per job attempt, begun by the worker; its requests carry `traceparent`, so the host's spans of
/// the claim, heartbeats, transfers and finish join the same trace.
/// </summary>
public static class Tracing
{
    /// <summary>The worker's activity source: a job attempt and its steps.</summary>
    public const string WorkerSource = "VideoEncode.Worker";

    /// <summary>HttpClient's own source of client spans: each request the worker sends, carrying its traceparent.</summary>
    public const string WorkerRequestSource = "System.Net.Http";

    /// <summary>ASP.NET Core's own source of server spans, which continues a request's traceparent.</summary>
    public const string HostRequestSource = "Microsoft.AspNetCore";

    /// <summary>Whether the environment asks for traces.</summary>
    public static bool Requested(Func<string, string?> environment) =>
        !string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_ENDPOINT")) || !string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
}
