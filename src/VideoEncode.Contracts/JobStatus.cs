namespace VideoEncode.Contracts;

/// <summary>The stored status values, spelled as they appear in JSON and in the list filter.</summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string InProgress = "in_progress";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, InProgress, Finished, Failed, Cancelled];
}
