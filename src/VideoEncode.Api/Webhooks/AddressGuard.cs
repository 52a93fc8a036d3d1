using System.Net;
using System.Net.Sockets;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// The guard against server-side request forgery: a webhook's URL is chosen by whoever holds an admin
/// key, and the host would post to it from inside the network it runs in. Unless WebhooksAllowPrivate
/// is set, a webhook may only reach public addresses — never loopback, link-local (which includes cloud
/// metadata services at 169.254.169.254), private, carrier-grade NAT, unspecified or multicast ones.
/// The host is checked when the webhook is made, and again at every connection (<see cref="WebhookHttp"/>),
/// since what a name resolves to can change after the check.
/// </summary>
public static class AddressGuard
{
    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // "this network", unspecified
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),    // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, and the broadcast address
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),         // unique local
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),         // multicast
    ];

    /// <summary>May a webhook connect to <paramref name="address"/>? (An IPv4 address written as IPv6 is judged as IPv4.)</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return !Refused.Any(network => network.Contains(address));
    }

    /// <summary>
    /// The addresses of <paramref name="host"/> that may be reached: all of them when private ones are
    /// allowed, else the public ones.
    /// </summary>
    /// <exception cref="WebhookRefusedException">The name does not resolve, or resolves only to refused addresses.</exception>
    public static async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, bool allowPrivate, CancellationToken cancel)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
            addresses = [literal];
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancel);
            }
            catch (SocketException e)
            {
                throw new WebhookRefusedException($"The host '{host}' cannot be resolved: {e.Message}");
            }
        }
        var allowed = allowPrivate ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length > 0) return allowed;
        throw new WebhookRefusedException(addresses.Length == 0
            ? $"The host '{host}' has no address."
            : $"The host '{host}' is at {string.Join(", ", addresses.Select(a => a.ToString()))}, a loopback, link-local, private or other " +
              $"non-public address; webhooks may only reach public addresses unless {nameof(QueueOptions.WebhooksAllowPrivate)} " +
              $"({SettingNames.EnvironmentVariable(nameof(QueueOptions.WebhooksAllowPrivate))}=true) is set.");
    }
}

/// <summary>A webhook's host that may not be reached (see <see cref="AddressGuard"/>).</summary>
public sealed class WebhookRefusedException(string message) : Exception(message);
