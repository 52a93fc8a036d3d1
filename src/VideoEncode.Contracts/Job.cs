namespace VideoEncode.Contracts;

/// <summary>
/// A job as it travels over the wire. The names and types of the original service's fields
/// (id, file_name, crf, preset, started, finished, created_at) are part of the contract:
/// times are unix seconds and null until set, and crf is a string.
/// </summary>
public sealed record Job
{
    public long Id { get; init; }
    public string FileName { get; init; } = "";
    public string Crf { get; init; } = "";
    public string Preset { get; init; } = "";
    public string Status { get; init; } = JobStatus.Pending;
    public long? Started { get; init; }
    public long? Finished { get; init; }
    public long CreatedAt { get; init; }

    /// <summary>Why a failed job failed, as its worker reported it; null otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>The last few KB of ffmpeg's stderr from a failed encode, when ffmpeg ran.</summary>
    public string? LogTail { get; init; }
}
