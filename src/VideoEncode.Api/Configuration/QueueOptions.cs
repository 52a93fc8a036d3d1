namespace VideoEncode.Api.Configuration;

/// <summary>
/// The host's settings, bound from the configuration root so that the environment variables
/// read naturally: VIDEOENCODE_APIKEY, VIDEOENCODE_DATABASE, VIDEOENCODE_LEASESECONDS, …
/// </summary>
public sealed class QueueOptions
{
    /// <summary>
    /// The admin key from the configuration (clients send it in X-API-Key); more keys, with roles, are
    /// made with POST /api/keys or `keys add`. The host refuses to start without this one.
    /// </summary>
    public string ApiKey { get; set; } = "";

    /// <summary>
    /// Path of the SQLite file (its folder is created when missing), or a PostgreSQL connection
    /// string or postgres:// URL for several hosts sharing one queue (see <see cref="Database.DatabaseLocation"/>).
    /// </summary>
    public string Database { get; set; } = "data/videoencode.db";

    /// <summary>
    /// The host's media store (Uploads/): uploaded inputs and the results workers send back.
    /// Hosts sharing a PostgreSQL queue must share this folder too (one file system, e.g. NFS).
    /// </summary>
    public string Media { get; set; } = "data/media";

    /// <summary>The largest upload accepted (Tus-Max-Size); a larger Upload-Length answers 413. 100 GiB by default.</summary>
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024 * 1024;

    /// <summary>
    /// What one key may hold reserved at once: the bytes its unfinished, unexpired uploads may still send. A creation
    /// that would take it past this answers 429 and stores nothing. Unset: twice <see cref="MaxUploadBytes"/>
    /// (<see cref="ReservedUploadBytesPerKey"/>). Workers sharing one key share this too.
    /// </summary>
    public long? MaxReservedUploadBytesPerKey { get; set; }

    /// <summary><see cref="MaxReservedUploadBytesPerKey"/> as set, or twice <see cref="MaxUploadBytes"/> (at most long.MaxValue).</summary>
    public long ReservedUploadBytesPerKey =>
        MaxReservedUploadBytesPerKey ?? (MaxUploadBytes > long.MaxValue / 2 ? long.MaxValue : 2 * MaxUploadBytes);

    /// <summary>Free space the media store's disk keeps: an upload that would leave less answers 507. 1 GiB by default.</summary>
    public long MediaReserveBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Hours an unfinished upload is kept before it is swept; a finished upload no job refers to (never
    /// enqueued, or its jobs deleted) goes the same time after it finished.
    /// </summary>
    public double UploadExpiryHours { get; set; } = 24;

    /// <summary>"*" (any origin, as the original service) or a comma-separated list of allowed origins.</summary>
    public string CorsOrigins { get; set; } = "*";

    /// <summary>How long a claim (POST /api/jobs/claim) lasts without a heartbeat.</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>
    /// The lease of a claim through the original GET /api/jobs/claim: those clients never send
    /// heartbeats, so their lease must outlast a long encode (4 hours by default).
    /// </summary>
    public int LegacyLeaseSeconds { get; set; } = 4 * 60 * 60;

    /// <summary>
    /// Whether a finish without a body — the original service's, unfenced: any worker key can finish any
    /// running shared-folder job — is accepted. Unset (the default): only while no key but the configured one
    /// exists, which keeps the original's clients working on a host they alone use; once other keys are made,
    /// a finish must quote its claim_token unless this is set to true.
    /// </summary>
    public bool? LegacyFinish { get; set; }

    /// <summary>The first retry delay after a retryable failure; it doubles with each attempt, up to an hour.</summary>
    public int RetryBackoffSeconds { get; set; } = 30;

    /// <summary>The hour (UTC, 0 to 23) at which a key's quota day starts: its jobs and encode seconds per day count from zero again.</summary>
    public int QuotaResetHour { get; set; }

    /// <summary>
    /// How often the progress that heartbeats report (progress, speed, time left, phase) is written to
    /// the database, in one batch. Between writes it lives in the host's memory (and on the event stream
    /// at once): a host that crashes loses at most this many seconds of progress figures, never a lease,
    /// a claim or a change of status.
    /// </summary>
    public double ProgressFlushSeconds { get; set; } = 3;

    /// <summary>How often lapsed leases are looked for.</summary>
    public double LeaseSweepSeconds { get; set; } = 1;

    /// <summary>
    /// On a shared PostgreSQL store: how long the host leading the upkeep keeps the lead without
    /// renewing it, i.e. how soon another host takes over when it dies. The lead is renewed at each
    /// sweep, so keep it at least twice LeaseSweepSeconds, or the lead passes from host to host.
    /// </summary>
    public int LeaderLeaseSeconds { get; set; } = 5;

    /// <summary>
    /// Writes allowed to wait for the single database writer. Past this the host answers 503 with
    /// Retry-After instead of letting latency and memory grow without bound.
    /// </summary>
    public int MaxQueuedWrites { get; set; } = 10_000;

    /// <summary>
    /// Wrong or missing keys one client address may send per minute (in a burst, then one every
    /// 60/n seconds) before it is answered 429 with Retry-After — every request from it then, whatever
    /// key it sends, until the allowance refills. A right key takes nothing from the allowance.
    /// </summary>
    public int WrongKeysPerMinute { get; set; } = 10;

    /// <summary>
    /// Finished, failed and cancelled jobs are deleted this many days after they ended (0 keeps them
    /// forever); the audit trail is kept at least a year (<see cref="Upkeep.JobRetention"/>).
    /// </summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>
    /// Seconds between the comments that keep an idle event stream (GET /api/events) open through proxies;
    /// at each, the stream's key is checked again, and the stream of a revoked key ends.
    /// </summary>
    public double EventKeepAliveSeconds { get; set; } = 15;

    /// <summary>Serve /metrics without the API key (for a Prometheus that cannot send headers).</summary>
    public bool MetricsOpen { get; set; }

    /// <summary>
    /// Let webhooks reach loopback, link-local and private addresses (a receiver on this machine or in
    /// this network). Off by default: a webhook's URL would otherwise let an admin key probe the host's
    /// own network (see <see cref="Webhooks.AddressGuard"/>).
    /// </summary>
    public bool WebhooksAllowPrivate { get; set; }
}
