namespace VideoEncode.Api.Webhooks;

public static class WebhookSetup
{
    /// <summary>The outbox that job writes fill, the store, the guarded HTTP client and the dispatcher that empties the outbox.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookStore>();
        services.AddWebhookHttp();
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}
