using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Webhooks;

public static class WebhookSetup
{
    /// <summary>The outbox that job writes fill, the store, the guarded HTTP client and the dispatcher that empties the outbox.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<WebhookSignal>()); // woken by this host's commits
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<IJobChangeRecorder>(sp => sp.GetRequiredService<WebhookOutbox>()); // deliveries written with each change
        services.AddSingleton<WebhookStore>();
        services.AddWebhookHttp();
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}
