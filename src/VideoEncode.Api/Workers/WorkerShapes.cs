namespace VideoEncode.Api.Workers;

/// <summary>
/// A worker known to the host. Lost: silent for longer than its lease. Draining: told to finish its
/// running jobs and claim no more. LastSeenAt is null for a worker drained before it was ever seen.
/// Encoders: what its last claim listed (null: it listed none, so it runs only libx264 jobs of crf and preset).
/// </summary>
public sealed record WorkerInfo(string Name, long? LastSeenAt, bool Lost, IReadOnlyList<WorkerJob> Jobs, long JobsFinished, long JobsFailed, bool Draining,
    IReadOnlyList<string>? Encoders = null);

/// <summary>A job a worker is running, with its last reported progress.</summary>
public sealed record WorkerJob(long Id, string FileName, double? Progress, double? Speed, long? EtaSeconds);

/// <summary>A worker's drain, as the drain routes answer it.</summary>
public sealed record WorkerDrain(string Name, bool Draining);
