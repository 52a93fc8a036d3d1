namespace VideoEncode.Api.Webhooks;

/// <summary>A webhook as listed: never its secret.</summary>
public record Webhook
{
    public long Id { get; init; }
    public string Url { get; init; } = "";
    public IReadOnlyList<string> Events { get; init; } = [];
    public long CreatedAt { get; init; }
    public string? CreatedBy { get; init; }
}

/// <summary>A webhook just made: the only answer that shows its secret.</summary>
public sealed record CreatedWebhook : Webhook
{
    public string Secret { get; init; } = "";
}

/// <summary>One delivery of an event to a webhook, as GET /api/webhooks/{id}/deliveries shows it.</summary>
public sealed record WebhookDelivery
{
    public const string Pending = "pending", Delivered = "delivered", Dead = "dead";

    public long Id { get; init; }
    public string Event { get; init; } = "";
    public long? JobId { get; init; }
    /// <summary>pending (due at <see cref="NextAttemptAt"/>), delivered, or dead (given up after a day of failures).</summary>
    public string Status { get; init; } = Pending;
    public long Attempts { get; init; }
    /// <summary>The HTTP status of the last answer; null when the receiver could not be reached.</summary>
    public long? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public long? NextAttemptAt { get; init; }
    public long CreatedAt { get; init; }
    public long? DeliveredAt { get; init; }
}
