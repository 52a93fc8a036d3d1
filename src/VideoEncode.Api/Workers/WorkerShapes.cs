namespace VideoEncode.Api.Workers;

/// <summary>
/// A worker known to the host. Lost: silent for longer than its lease. Draining: told to finish its
/// running jobs and claim no more. LastSeenAt is null for a worker drained before it was ever seen.
/// Encoders: what its last claim listed (null: it listed none, so it runs only libx264 jobs of crf and preset).
/// Version: what its last claim's X-VideoEncode-Worker header gave (null: a client that sends none, such as the
/// original service's); VersionDiffers: it is not the host's own version, so one of the two wants upgrading.
/// Schedule: its own schedule, when it has one (docs/schedules.md), with whether it is open now.
/// </summary>
public sealed record WorkerInfo(string Name, long? LastSeenAt, bool Lost, IReadOnlyList<WorkerJob> Jobs, long JobsFinished, long JobsFailed, bool Draining,
    IReadOnlyList<string>? Encoders = null, string? Version = null, bool VersionDiffers = false)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Schedules.ScheduleView? Schedule { get; init; }
}

/// <summary>A job a worker is running, with its last reported progress.</summary>
public sealed record WorkerJob(long Id, string FileName, double? Progress, double? Speed, long? EtaSeconds);

/// <summary>A worker's drain, as the drain routes answer it.</summary>
public sealed record WorkerDrain(string Name, bool Draining);
