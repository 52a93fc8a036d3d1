namespace VideoEncode.Api.Migration;

/// <summary>What `migrate` copied: the jobs (and how many of each status), the workers, the idempotency keys, the webhooks and their deliveries.</summary>
internal sealed record CopiedQueue(long Jobs, IReadOnlyList<(string Status, long Count)> JobsByStatus, long Workers, long IdempotencyKeys,
    long Webhooks, long WebhookDeliveries)
{
    /// <summary>"1234 jobs (12 pending, 1 in_progress, …), 3 workers, 5 idempotency keys", then ", 1 webhook (7 deliveries)" when there were any.</summary>
    public override string ToString()
    {
        var statuses = JobsByStatus.Count == 0 ? "" : $" ({string.Join(", ", JobsByStatus.Select(s => $"{s.Count} {s.Status}"))})";
        var webhooks = Webhooks == 0 ? "" : $", {Counted(Webhooks, "webhook")} ({WebhookDeliveries} {(WebhookDeliveries == 1 ? "delivery" : "deliveries")})";
        return $"{Counted(Jobs, "job")}{statuses}, {Counted(Workers, "worker")}, {Counted(IdempotencyKeys, "idempotency key")}{webhooks}";
    }

    /// <summary>"1 job", "3 jobs".</summary>
    public static string Counted(long count, string thing) => $"{count} {thing}{(count == 1 ? "" : "s")}";
}
