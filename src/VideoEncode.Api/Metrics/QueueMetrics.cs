using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace VideoEncode.Api.Metrics;

/// <summary>
/// The host's counters and request-duration histograms, written in the Prometheus text format
/// (version 0.0.4). No exporter package is available here, and the format is small: HELP and
/// TYPE lines, then one "name{labels} value" line per series. Counters start from zero when the
/// host starts, as Prometheus expects.
/// </summary>
public sealed class QueueMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private long claims, finishes, failures, leaseExpiries;
    private readonly ConcurrentDictionary<(string Method, string Route, int Status), Histogram> durations = new();

    public void Claimed() => Interlocked.Increment(ref claims);
    public void Finished() => Interlocked.Increment(ref finishes);
    public void Failed() => Interlocked.Increment(ref failures);
    public void LeaseExpired() => Interlocked.Increment(ref leaseExpiries);

    public void Request(string method, string route, int status, double seconds) =>
        durations.GetOrAdd((method, route, status), _ => new Histogram()).Observe(seconds);

    public string Render(IReadOnlyDictionary<string, long> jobsByStatus)
    {
        var text = new StringBuilder();
        Header(text, "videoencode_jobs", "gauge", "Jobs in the queue by status.");
        foreach (var (status, count) in jobsByStatus)
            text.Append(CultureInfo.InvariantCulture, $"videoencode_jobs{{status=\"{status}\"}} {count}\n");
        Counter(text, "videoencode_claims_total", "Jobs handed to workers.", Interlocked.Read(ref claims));
        Counter(text, "videoencode_finishes_total", "Jobs finished.", Interlocked.Read(ref finishes));
        Counter(text, "videoencode_failures_total", "Jobs that ended failed (reported by a worker or out of attempts).", Interlocked.Read(ref failures));
        Counter(text, "videoencode_lease_expiries_total", "Claims whose lease lapsed without a heartbeat.", Interlocked.Read(ref leaseExpiries));

        Header(text, "videoencode_http_request_duration_seconds", "histogram", "HTTP request durations by route.");
        foreach (var ((method, route, status), histogram) in durations.OrderBy(entry => entry.Key.Route).ThenBy(entry => entry.Key.Method))
            histogram.Render(text, $"method=\"{method}\",route=\"{Escape(route)}\",status=\"{status}\"");
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, "counter", help);
        text.Append(CultureInfo.InvariantCulture, $"{name} {value}\n");
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append($"# HELP {name} {help}\n# TYPE {name} {type}\n");

    private static string Escape(string label) => label.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class Histogram
    {
        private readonly long[] counts = new long[Buckets.Length];
        private long count;
        private double sum;
        private readonly object gate = new();

        public void Observe(double seconds)
        {
            lock (gate)
            {
                for (var i = 0; i < Buckets.Length; i++)
                    if (seconds <= Buckets[i]) counts[i]++;
                count++;
                sum += seconds;
            }
        }

        public void Render(StringBuilder text, string labels)
        {
            lock (gate)
            {
                const string name = "videoencode_http_request_duration_seconds";
                for (var i = 0; i < Buckets.Length; i++)
                    text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{Buckets[i]}\"}} {counts[i]}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"+Inf\"}} {count}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {sum}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_count{{{labels}}} {count}\n");
            }
        }
    }
}
