using System.Net.Sockets;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// The HTTP client deliveries are posted with: a 10-second timeout, no redirects (a 3xx is a failed
/// attempt, not a way around the address guard), no proxy, and a connection that is only ever opened to
/// an address <see cref="AddressGuard"/> allows, resolved at the moment of connecting — so a name that
/// resolved to a public address when the webhook was made cannot later lead into the private network.
/// </summary>
public static class WebhookHttp
{
    public const string ClientName = "webhooks";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static IServiceCollection AddWebhookHttp(this IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client =>
            {
                client.Timeout = Timeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("VideoEncode-Webhooks/1");
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var allowPrivate = provider.GetRequiredService<IOptions<QueueOptions>>().Value.WebhooksAllowPrivate;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseProxy = false,
                    UseCookies = false,
                    ConnectTimeout = Timeout,
                    ConnectCallback = (context, cancel) => ConnectAsync(context, allowPrivate, cancel),
                };
            });
        return services;
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancel)
    {
        var endpoint = context.DnsEndPoint;
        IReadOnlyList<System.Net.IPAddress> addresses;
        try
        {
            addresses = await AddressGuard.ResolveAsync(endpoint.Host, allowPrivate, cancel);
        }
        catch (WebhookRefusedException refused)
        {
            throw new HttpRequestException(refused.Message);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Only the addresses the guard allowed: the socket never resolves the name itself.
            await socket.ConnectAsync(addresses.ToArray(), endpoint.Port, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
