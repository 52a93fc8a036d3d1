namespace VideoEncode.Contracts;

/// <summary>
/// A job's status as code decides with it; <see cref="JobStatus"/> spells each one as JSON, the list
/// filter and the database have it ("pending", "in_progress", …), which never changes.
/// </summary>
public enum JobState
{
    Pending,
    InProgress,
    Finished,
    Failed,
    Cancelled,
}

/// <summary>The stored status values, spelled as they appear in JSON and in the list filter.</summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string InProgress = "in_progress";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, InProgress, Finished, Failed, Cancelled];

    /// <summary>The spelling of <paramref name="state"/> on the wire and in the database.</summary>
    public static string Name(JobState state) => state switch
    {
        JobState.Pending => Pending,
        JobState.InProgress => InProgress,
        JobState.Finished => Finished,
        JobState.Failed => Failed,
        _ => Cancelled,
    };

    /// <summary>The state a stored or wire status spells; null for anything else.</summary>
    public static JobState? Parse(string? status) => status switch
    {
        Pending => JobState.Pending,
        InProgress => JobState.InProgress,
        Finished => JobState.Finished,
        Failed => JobState.Failed,
        Cancelled => JobState.Cancelled,
        _ => null,
    };
}
