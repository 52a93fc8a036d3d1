using System.Net;
using System.Net.Sockets;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// The guard against server-side request forgery: a webhook's URL is chosen by whoever holds an admin
/// key, and the host would post to it from inside the network it runs in. Unless WebhooksAllowPrivate
/// is set, a webhook may only reach public addresses — never loopback, link-local (which includes cloud
/// metadata services at 169.254.169.254), private, carrier-grade NAT, unspecified or multicast ones.
/// An IPv6 address must be global unicast (2000::/3), so site-local, unique local and the rest are
/// refused; one that carries an IPv4 address inside it (IPv4-mapped and IPv4-compatible, NAT64's
/// 64:ff9b::/96, 6to4, Teredo) is judged by the IPv4 address it leads to, since a gateway or relay on
/// the way would deliver the request there.
/// The host is checked when the webhook is made, and again at every connection (<see cref="WebhookHttp"/>),
/// since what a name resolves to can change after the check.
/// </summary>
public static class AddressGuard
{
    private static readonly IPNetwork[] RefusedIPv4 =
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
    ];

    /// <summary>Global unicast: every other IPv6 block (unique local, link-local, site-local, multicast, …) is not the internet's.</summary>
    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    private static readonly IPNetwork Ipv4Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Teredo = IPNetwork.Parse("2001::/32");

    /// <summary>May a webhook connect to <paramref name="address"/>?</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return !RefusedIPv4.Any(network => network.Contains(address));
        var bytes = address.GetAddressBytes();
        if (address.IsIPv4MappedToIPv6 || Ipv4Compatible.Contains(address) || Nat64.Contains(address)) return IsPublic(IPv4(bytes, 12));
        if (SixToFour.Contains(address)) return IsPublic(IPv4(bytes, 2));
        // Teredo: the relay server's address, then the client's, stored inverted (RFC 4380); packets reach both.
        if (Teredo.Contains(address)) return IsPublic(IPv4(bytes, 4)) && IsPublic(IPv4(bytes, 12, inverted: true));
        // NAT64's local-use prefix 64:ff9b:1::/48 is outside 2000::/3: refused, as where it puts the IPv4 address is the network's choice.
        return GlobalUnicast.Contains(address);
    }

    private static IPAddress IPv4(byte[] bytes, int at, bool inverted = false)
    {
        var four = bytes[at..(at + 4)];
        if (inverted)
            for (var i = 0; i < four.Length; i++) four[i] = (byte)~four[i];
        return new IPAddress(four);
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
