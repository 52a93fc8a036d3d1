using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Webhooks;

/// <summary>The request to make a webhook; without a secret one is made (and shown once, in the answer).</summary>
public sealed record NewWebhook(string Url, IReadOnlyList<string> Events, string? Secret);

/// <summary>
/// /api/webhooks, for admins: make a webhook (a URL told of chosen job events), list and read them
/// (never the secret), delete one (with its deliveries), and read its last deliveries with their answers.
/// </summary>
public static class WebhooksApi
{
    private const int MinSecretLength = 16, MaxSecretLength = 256, MaxUrlLength = 2048;

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/webhooks").WithTags("Webhooks").RequireAccess(Access.Admin);
        group.MapPost("/", Create)
            .WithMetadata(new RequestBodyDocumentation(typeof(NewWebhook)))
            .WithSummary($"Make a webhook: POSTs of signed JSON to url for each of its events ({string.Join(", ", WebhookEvents.All)}); " +
                         "the answer is the only time its secret is shown");
        group.MapGet("/", async (WebhookStore webhooks) => TypedResults.Ok(await webhooks.ListAsync()))
            .WithSummary("The webhooks (never their secrets)");
        group.MapGet("/{id}", Get).WithSummary("One webhook");
        group.MapDelete("/{id}", Delete).WithSummary("Delete a webhook, with its deliveries, sent or not");
        group.MapGet("/{id}/deliveries", Deliveries)
            .WithSummary($"A webhook's last deliveries, newest first (limit, at most {WebhookStore.KeptPerWebhook}): status, attempts, last answer");
        return group;
    }

    private static async Task<Results<Created<CreatedWebhook>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Create(
        HttpRequest request, Caller caller, WebhookStore webhooks, IOptions<QueueOptions> options, TimeProvider clock)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, maxBytes: 8192);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (webhook, problem) = Read(document!.RootElement);
            if (problem is not null) return TypedResults.BadRequest(new ApiError(problem));
            var url = new Uri(webhook!.Url);
            try
            {
                await AddressGuard.ResolveAsync(url.IdnHost, options.Value.WebhooksAllowPrivate, request.HttpContext.RequestAborted);
            }
            catch (WebhookRefusedException refused)
            {
                return TypedResults.BadRequest(new ApiError(refused.Message) { Field = "url" });
            }
            var secret = webhook.Secret ?? "whsec_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            var created = await webhooks.CreateAsync(url.AbsoluteUri, webhook.Events, secret, caller.Name, clock.GetUtcNow().ToUnixTimeSeconds());
            return TypedResults.Created($"/api/webhooks/{created.Id}", created);
        }
    }

    /// <summary>The request, or why it cannot be used: url absolute http(s), events a non-empty list of known names, secret long enough.</summary>
    private static (NewWebhook? Webhook, string? Problem) Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return (null, "Send {\"url\": …, \"events\": [\"job.finished\", …], \"secret\": … (optional)}.");
        if (!root.TryGetProperty("url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
            return (null, "url is required: the http(s) address deliveries are posted to.");
        var text = urlElement.GetString()!;
        if (text.Length > MaxUrlLength || !Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            return (null, $"url must be an absolute http:// or https:// address of at most {MaxUrlLength} characters.");

        if (!root.TryGetProperty("events", out var eventsElement) || eventsElement.ValueKind != JsonValueKind.Array || eventsElement.GetArrayLength() == 0)
            return (null, $"events is required: a list of one or more of {string.Join(", ", WebhookEvents.All)}.");
        var events = new List<string>();
        foreach (var item in eventsElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !WebhookEvents.All.Contains(item.GetString()))
                return (null, $"Unknown event {item.GetRawText()}; events are {string.Join(", ", WebhookEvents.All)}.");
            if (!events.Contains(item.GetString()!)) events.Add(item.GetString()!);
        }

        string? secret = null;
        if (root.TryGetProperty("secret", out var secretElement) && secretElement.ValueKind != JsonValueKind.Null)
        {
            secret = secretElement.ValueKind == JsonValueKind.String ? secretElement.GetString() : null;
            if (secret is null || secret.Length is < MinSecretLength or > MaxSecretLength || secret.Any(char.IsControl))
                return (null, $"secret must be a string of {MinSecretLength} to {MaxSecretLength} characters (leave it out to have one made).");
        }
        return (new NewWebhook(text, events, secret), null);
    }

    private static async Task<Results<Ok<Webhook>, NotFound<ApiError>, BadRequest<ApiError>>> Get(string id, WebhookStore webhooks)
    {
        if (ParseId(id) is not { } webhookId) return InvalidId();
        return await webhooks.GetAsync(webhookId) is { } webhook ? TypedResults.Ok(webhook) : NotFound();
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>> Delete(
        string id, Caller caller, WebhookStore webhooks, TimeProvider clock)
    {
        if (ParseId(id) is not { } webhookId) return InvalidId();
        return await webhooks.DeleteAsync(webhookId, caller.Name, clock.GetUtcNow().ToUnixTimeSeconds())
            ? TypedResults.Ok(new SuccessMessage("Webhook deleted"))
            : NotFound();
    }

    private static async Task<Results<Ok<IReadOnlyList<WebhookDelivery>>, NotFound<ApiError>, BadRequest<ApiError>>> Deliveries(
        string id, string? limit, WebhookStore webhooks)
    {
        if (ParseId(id) is not { } webhookId) return InvalidId();
        var count = 20;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count)
                                             || count is < 1 or > WebhookStore.KeptPerWebhook))
            return TypedResults.BadRequest(new ApiError($"limit must be a whole number from 1 to {WebhookStore.KeptPerWebhook}."));
        if (await webhooks.GetAsync(webhookId) is null) return NotFound();
        return TypedResults.Ok(await webhooks.DeliveriesAsync(webhookId, count));
    }

    private static long? ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static BadRequest<ApiError> InvalidId() => TypedResults.BadRequest(new ApiError("Invalid webhook ID"));

    private static NotFound<ApiError> NotFound() => TypedResults.NotFound(new ApiError("Webhook not found"));
}
