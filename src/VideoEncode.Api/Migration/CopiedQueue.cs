namespace VideoEncode.Api.Migration;

/// <summary>What `migrate` copied: the jobs (and how many of each status), the workers and the idempotency keys.</summary>
internal sealed record CopiedQueue(long Jobs, IReadOnlyList<(string Status, long Count)> JobsByStatus, long Workers, long IdempotencyKeys)
{
    /// <summary>"1234 jobs (12 pending, 1 in_progress, …), 3 workers, 5 idempotency keys".</summary>
    public override string ToString()
    {
        var statuses = JobsByStatus.Count == 0 ? "" : $" ({string.Join(", ", JobsByStatus.Select(s => $"{s.Count} {s.Status}"))})";
        return $"{Counted(Jobs, "job")}{statuses}, {Counted(Workers, "worker")}, {Counted(IdempotencyKeys, "idempotency key")}";
    }

    /// <summary>"1 job", "3 jobs".</summary>
    public static string Counted(long count, string thing) => $"{count} {thing}{(count == 1 ? "" : "s")}";
}
