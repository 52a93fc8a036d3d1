using System.Data.Common;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Webhooks;

/// <summary>A delivery claimed for one attempt, with what sending it needs.</summary>
public sealed record DeliveryAttempt(long Id, long WebhookId, string Url, string Secret, string Body, long Attempts, long CreatedAt);

/// <summary>
/// The webhooks and their deliveries, on either store (the same SQL; <see cref="IStoreSql"/>). Making
/// and deleting a webhook is recorded in the audit trail in the same transaction. A dispatcher claims
/// due deliveries with a lease (locked_until) in one UPDATE … RETURNING, so dispatchers on several hosts
/// never send the same delivery at once; each later step on the attempt is fenced by the attempt number
/// the claim set, so one whose lease lapsed (and was claimed again) changes nothing.
/// </summary>
public sealed class WebhookStore(IStoreSql store)
{
    /// <summary>The deliveries kept per webhook once sent or given up, and how long: the newest few are what the list shows.</summary>
    public const int KeptPerWebhook = 100;

    private const long KeptSeconds = 7 * 24 * 60 * 60;

    private const string WebhookColumns = "id, url, events, created_at, created_by";

    private sealed record WebhookRow
    {
        public long Id { get; init; }
        public string Url { get; init; } = "";
        public string Events { get; init; } = "";
        public long CreatedAt { get; init; }
        public string? CreatedBy { get; init; }

        public Webhook ToWebhook() => new() { Id = Id, Url = Url, Events = WebhookEvents.FromStored(Events), CreatedAt = CreatedAt, CreatedBy = CreatedBy };
    }

    private sealed record Claimed
    {
        public long Id { get; init; }
        public long WebhookId { get; init; }
        public string Body { get; init; } = "";
        public long Attempts { get; init; }
        public long CreatedAt { get; init; }
    }

    private sealed record Target
    {
        public long Id { get; init; }
        public string Url { get; init; } = "";
        public string Secret { get; init; } = "";
    }

    public Task<CreatedWebhook> CreateAsync(string url, IReadOnlyList<string> events, string secret, string actor, long now) =>
        store.WriteAsync(async connection =>
        {
            var id = await connection.QuerySingleAsync<long>("""
                INSERT INTO webhooks (url, events, secret, created_at, created_by) VALUES (@url, @events, @secret, @now, @actor) RETURNING id
                """, new { url, events = WebhookEvents.Stored(events), secret, now, actor });
            await AuditTrail.RecordAsync(connection, now, actor, "webhook.create", id.ToString(), $"{url} ({string.Join(", ", events)})");
            return new CreatedWebhook { Id = id, Url = url, Events = events, CreatedAt = now, CreatedBy = actor, Secret = secret };
        });

    public Task<IReadOnlyList<Webhook>> ListAsync() =>
        store.ReadAsync<IReadOnlyList<Webhook>>(async connection =>
            (await connection.QueryAsync<WebhookRow>($"SELECT {WebhookColumns} FROM webhooks ORDER BY id")).Select(row => row.ToWebhook()).ToList());

    public Task<Webhook?> GetAsync(long id) =>
        store.ReadAsync(async connection =>
            (await connection.QuerySingleOrDefaultAsync<WebhookRow>($"SELECT {WebhookColumns} FROM webhooks WHERE id = @id", new { id }))?.ToWebhook());

    /// <summary>Deletes the webhook and every delivery it had (sent or not); false when there is none.</summary>
    public Task<bool> DeleteAsync(long id, string actor, long now) =>
        store.WriteAsync(async connection =>
        {
            var url = await connection.QuerySingleOrDefaultAsync<string?>("DELETE FROM webhooks WHERE id = @id RETURNING url", new { id });
            if (url is null) return false;
            await connection.ExecuteAsync("DELETE FROM webhook_deliveries WHERE webhook_id = @id", new { id });
            await AuditTrail.RecordAsync(connection, now, actor, "webhook.delete", id.ToString(), url);
            return true;
        });

    /// <summary>The webhook's newest deliveries first.</summary>
    public Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(long webhookId, int limit) =>
        store.ReadAsync<IReadOnlyList<WebhookDelivery>>(async connection => (await connection.QueryAsync<WebhookDelivery>("""
            SELECT id, event, job_id, status, attempts, last_status_code, last_error,
                   CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, created_at, delivered_at
            FROM webhook_deliveries WHERE webhook_id = @webhookId ORDER BY id DESC LIMIT @limit
            """, new { webhookId, limit })).AsList());

    /// <summary>Is a delivery due and unclaimed? A read, so an idle dispatcher's poll writes nothing.</summary>
    public Task<bool> AnyDueAsync(long now) =>
        store.ReadAsync(async connection => await connection.QueryFirstOrDefaultAsync<long?>(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now AND locked_until <= @now LIMIT 1",
            new { now }) is not null);

    /// <summary>
    /// Claims up to <paramref name="max"/> due deliveries until <paramref name="leaseUntil"/>, counting the
    /// attempt. The conditions are repeated outside the subquery: on PostgreSQL a second dispatcher whose
    /// UPDATE waited for the first one's rows re-checks them against the rows as the first left them, and
    /// so skips the ones just claimed. A delivery whose webhook is gone is not claimed (the upkeep forgets it);
    /// the webhooks are few, so all are read rather than the claimed ones picked out.
    /// </summary>
    public Task<IReadOnlyList<DeliveryAttempt>> ClaimAsync(long now, long leaseUntil, int max) =>
        store.WriteAsync<IReadOnlyList<DeliveryAttempt>>(async connection =>
        {
            var claimed = (await connection.QueryAsync<Claimed>("""
                UPDATE webhook_deliveries SET locked_until = @leaseUntil, attempts = attempts + 1
                WHERE status = 'pending' AND next_attempt_at <= @now AND locked_until <= @now AND id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= @now AND locked_until <= @now
                      AND EXISTS (SELECT 1 FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id)
                    ORDER BY next_attempt_at, id LIMIT @max)
                RETURNING id, webhook_id, body, attempts, created_at
                """, new { now, leaseUntil, max })).AsList();
            if (claimed.Count == 0) return [];
            var targets = (await connection.QueryAsync<Target>("SELECT id, url, secret FROM webhooks")).ToDictionary(target => target.Id);
            // A webhook deleted on another host since the claim began: its deliveries' leases lapse, and the upkeep forgets them.
            return claimed.Where(c => targets.ContainsKey(c.WebhookId))
                .Select(c => new DeliveryAttempt(c.Id, c.WebhookId, targets[c.WebhookId].Url, targets[c.WebhookId].Secret, c.Body, c.Attempts, c.CreatedAt))
                .ToList();
        });

    /// <summary>The receiver answered 2xx.</summary>
    public Task DeliveredAsync(DeliveryAttempt attempt, long now, int statusCode) =>
        store.WriteAsync(connection => connection.ExecuteAsync("""
            UPDATE webhook_deliveries SET status = 'delivered', delivered_at = @now, last_status_code = @statusCode, last_error = NULL, locked_until = 0
            WHERE id = @Id AND attempts = @Attempts AND status = 'pending'
            """, new { attempt.Id, attempt.Attempts, now, statusCode }));

    /// <summary>The attempt failed: due again at <paramref name="nextAttemptAt"/>, or dead when that is null.</summary>
    public Task FailedAsync(DeliveryAttempt attempt, int? statusCode, string error, long? nextAttemptAt) =>
        store.WriteAsync(connection => connection.ExecuteAsync("""
            UPDATE webhook_deliveries
            SET status = CASE WHEN @nextAttemptAt IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at), last_status_code = @statusCode, last_error = @error, locked_until = 0
            WHERE id = @Id AND attempts = @Attempts AND status = 'pending'
            """, new { attempt.Id, attempt.Attempts, statusCode, error, nextAttemptAt }));

    /// <summary>
    /// Forgets deliveries sent or given up more than a week ago or beyond each webhook's newest
    /// <see cref="KeptPerWebhook"/>, and any whose webhook is gone (one a job change wrote while the
    /// webhook was being deleted on another host). Pending ones of a live webhook are always kept.
    /// </summary>
    public Task ForgetOldAsync(long now) =>
        store.WriteAsync(async connection =>
        {
            await connection.ExecuteAsync("""
                DELETE FROM webhook_deliveries WHERE status <> 'pending' AND (created_at < @before OR id IN (
                    SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY webhook_id ORDER BY id DESC) AS newer
                                    FROM webhook_deliveries WHERE status <> 'pending') AS ranked
                    WHERE newer > @kept))
                """, new { before = now - KeptSeconds, kept = KeptPerWebhook });
            return await connection.ExecuteAsync("DELETE FROM webhook_deliveries WHERE webhook_id NOT IN (SELECT id FROM webhooks)");
        });
}
