using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// A claim's 404: "No jobs available", as the original service answered — and, ours, why, when the
/// host holds jobs back on purpose: the queue is paused (ask again later, as ever), or this worker is
/// being drained (finish the running jobs, claim no more), or the queue's schedule or the worker's is closed
/// ("reason": "outside schedule", and "opens_at": when they next open, unix seconds; absent when they never do).
/// </summary>
public sealed record NoJob(string Error)
{
    public const string NoJobsAvailable = "No jobs available";

    /// <summary>The <see cref="Reason"/> of a claim outside the queue's or the worker's schedule.</summary>
    public const string OutsideSchedule = "outside schedule";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? OpensAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Paused { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Drain { get; init; }
}
