using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// A claim's 404: "No jobs available", as the original service answered — and, ours, why, when the
/// host holds jobs back on purpose: the queue is paused (ask again later, as ever), or this worker is
/// being drained (finish the running jobs, claim no more).
/// </summary>
public sealed record NoJob(string Error)
{
    public const string NoJobsAvailable = "No jobs available";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Paused { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Drain { get; init; }
}
