using System.Diagnostics;
using VideoEncode.Contracts;

namespace VideoEncode.Worker;

/// <summary>
/// The worker's spans (<see cref="Tracing"/>): one trace per job attempt, its root begun before the claim so the
/// claim belongs to it, with a span for the claim, each batch of heartbeats, the download, the ffmpeg run (its
/// command line as an attribute), the quality gate, the upload and the report of the result. HttpClient's span of
/// each request (System.Net.Http) is put in its traceparent, so the host's spans of those requests join the trace. With no
/// tracer listening (OTEL_EXPORTER_OTLP_ENDPOINT unset) every Start answers null and nothing is recorded.
/// </summary>
internal static class JobTracing
{
    public static readonly ActivitySource Source = new(Tracing.WorkerSource, Versions.Product);

    public const string CommandLineAttribute = "videoencode.ffmpeg.command_line";
    public const string JobIdAttribute = "videoencode.job.id";

    /// <summary>A new trace for the next attempt, whatever span is current.</summary>
    public static Activity? StartAttempt(string worker)
    {
        Activity.Current = null;
        var attempt = Source.StartActivity("job attempt");
        attempt?.SetTag("videoencode.worker", worker);
        return attempt;
    }

    /// <summary>The attempt's job: its id and attempt number on the root span.</summary>
    public static void Claimed(Activity? attempt, Job job)
    {
        attempt?.SetTag(JobIdAttribute, job.Id);
        attempt?.SetTag("videoencode.job.attempt", job.Attempts);
        attempt?.SetTag("videoencode.job.file_name", job.FileName);
    }

    /// <summary>
    /// A claim that got no job is no attempt: its span is ended unrecorded, so an idle worker's long polls export
    /// nothing. (The host's span of that claim may still be, as a trace of its own.)
    /// </summary>
    public static void Discard(Activity? attempt)
    {
        if (attempt is null) return;
        attempt.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        attempt.Stop();
    }

    /// <summary>A step of the current attempt.</summary>
    public static Activity? Step(string name) => Source.StartActivity(name);
}
