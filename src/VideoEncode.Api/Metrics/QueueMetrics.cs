using Prometheus;
using Prometheus.HttpMetrics;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Stats;

namespace VideoEncode.Api.Metrics;

/// <summary>
/// The host's metrics, kept by prometheus-net in a registry of this host's own (so two hosts in one
/// process — the tests — never share counters): jobs by status (read from the database at each
/// scrape), long-poll claims waiting on this host, claims, finishes, failures and lease expiries (counted by JobChangeSink from the committed changes),
/// the ended jobs retention deleted (<see cref="Upkeep.JobRetention"/>), the uploads swept (<see cref="Upkeep.UploadSweeper"/>), and request durations by route. Counters start from zero when the host starts, as Prometheus expects.
/// </summary>
public sealed class QueueMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Counter claims, finishes, failures, leaseExpiries, retentionDeletes, uploadsSwept;

    public QueueMetrics(StatsStore stats, ClaimWaiters waiters)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(Registry);
        var jobs = metrics.CreateGauge("videoencode_jobs", "Jobs in the queue by status.", "status");
        var waiting = metrics.CreateGauge("videoencode_waiting_claims", "Long-poll claims waiting on this host for a job (idle workers).");
        claims = metrics.CreateCounter("videoencode_claims_total", "Jobs handed to workers.");
        finishes = metrics.CreateCounter("videoencode_finishes_total", "Jobs finished.");
        failures = metrics.CreateCounter("videoencode_failures_total", "Jobs that ended failed (reported by a worker or out of attempts).");
        leaseExpiries = metrics.CreateCounter("videoencode_lease_expiries_total", "Claims whose lease lapsed without a heartbeat.");
        retentionDeletes = metrics.CreateCounter("videoencode_retention_deleted_jobs_total",
            "Ended jobs deleted for being older than RetentionDays, by this host (the one leading the upkeep does it).");
        uploadsSwept = metrics.CreateCounter("videoencode_uploads_swept_total",
            "Uploads removed from the media store by this host's sweep (the one leading the upkeep): unfinished past their expiry (reason=expired), " +
            "completed and unused for UploadExpiryHours (reason=unused), and files without an upload (reason=leftover).", "reason");
        RequestDurations = metrics.CreateHistogram("videoencode_http_request_duration_seconds", "HTTP request durations by route.",
            new HistogramConfiguration { LabelNames = [HttpRequestLabelNames.Method, RouteLabel, StatusLabel], Buckets = Buckets });
        Registry.AddBeforeCollectCallback(async cancel =>
        {
            foreach (var (status, count) in await stats.CountByStatusAsync())
                jobs.WithLabels(status).Set(count);
            waiting.Set(waiters.Count);
        });
    }

    public const string RouteLabel = "route", StatusLabel = "status";

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Request durations by method, route pattern and final status, measured by prometheus-net's UseHttpMetrics (<see cref="MetricsSetup.UseRequestMetrics"/>).</summary>
    public Histogram RequestDurations { get; }

    public void Claimed() => claims.Inc();
    public void Finished() => finishes.Inc();
    public void Failed() => failures.Inc();
    public void LeaseExpired() => leaseExpiries.Inc();
    public void RetentionDeleted(int jobs) => retentionDeletes.Inc(jobs);

    public void UploadsSwept(int expired, int unused, int leftovers)
    {
        uploadsSwept.WithLabels("expired").Inc(expired);
        uploadsSwept.WithLabels("unused").Inc(unused);
        uploadsSwept.WithLabels("leftover").Inc(leftovers);
    }
}
