using System.Globalization;
using System.Text;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// Sends the outbox's deliveries, on every host: it claims due ones (a lease, so hosts never send one
/// twice at once), posts each signed (<see cref="WebhookSignature"/>) and records the answer. A 2xx is
/// delivered; anything else — another status, no connection, no answer within 10 seconds — is tried
/// again after 10 seconds, then 20, 40, … up to an hour between attempts, until a day after the event,
/// when the delivery is marked dead. A host that stops or dies mid-attempt leaves its lease to lapse,
/// and the delivery is sent again: a receiver may see one twice (the VideoEncode-Delivery header tells).
/// It wakes when this host commits deliveries (<see cref="WebhookSignal"/>) and otherwise looks every
/// second, which is how it finds what other hosts, or a previous run of this one, left due.
/// </summary>
public sealed class WebhookDispatcher(WebhookStore store, WebhookSignal signal, IHttpClientFactory http, TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private const int BatchSize = 16;
    private const long FirstRetrySeconds = 10, LongestRetrySeconds = 60 * 60, GiveUpAfterSeconds = 24 * 60 * 60;
    private const int MaxErrorLength = 500;

    /// <summary>Longer than an attempt can take (the client's timeout), so a lease lapses only when its host is gone.</summary>
    private static readonly long LeaseSeconds = (long)(WebhookHttp.Timeout.TotalSeconds * 6);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // One time for the whole round: the attempt is recorded as made when it was claimed.
                var now = clock.GetUtcNow().ToUnixTimeSeconds();
                if (await store.AnyDueAsync(now))
                {
                    var attempts = await store.ClaimAsync(now, now + LeaseSeconds, BatchSize);
                    await Task.WhenAll(attempts.Select(attempt => SendAsync(attempt, now, stopping)));
                    if (attempts.Count == BatchSize) continue; // there may be more due
                }
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // The database may be down for a moment; what was claimed is tried again once its lease lapses.
                logger.LogError(e, "Webhook deliveries failed; trying again in {Interval}.", PollInterval);
            }
            await signal.WaitAsync(PollInterval, stopping);
        }
    }

    private async Task SendAsync(DeliveryAttempt attempt, long now, CancellationToken stopping)
    {
        int? statusCode = null;
        string error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, attempt.Url)
            {
                Content = new StringContent(attempt.Body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Header(attempt.Secret, now, attempt.Body));
            request.Headers.Add(WebhookSignature.DeliveryHeaderName, attempt.Id.ToString(CultureInfo.InvariantCulture));
            using var response = await http.CreateClient(WebhookHttp.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stopping);
            statusCode = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await store.DeliveredAsync(attempt, now, statusCode.Value);
                return;
            }
            error = $"HTTP {statusCode} {response.ReasonPhrase}".TrimEnd();
        }
        catch (HttpRequestException e)
        {
            error = e.Message;
        }
        catch (TaskCanceledException) when (!stopping.IsCancellationRequested)
        {
            error = $"No answer within {WebhookHttp.Timeout.TotalSeconds} seconds.";
        }
        // (When the host is stopping, the cancellation goes up: the lease lapses and the attempt is made again.)

        var next = now + Math.Min(FirstRetrySeconds << (int)Math.Min(attempt.Attempts - 1, 20), LongestRetrySeconds);
        var dead = next > attempt.CreatedAt + GiveUpAfterSeconds;
        if (dead)
            logger.LogWarning("Webhook {WebhookId} gave up delivery {DeliveryId} after {Attempts} attempts over a day; the last: {Error}",
                attempt.WebhookId, attempt.Id, attempt.Attempts, error);
        await store.FailedAsync(attempt, statusCode, error.Length > MaxErrorLength ? error[..MaxErrorLength] : error, dead ? null : next);
    }
}
