using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Slows down guessing: every wrong or missing key takes a token from its client address's bucket
/// (System.Threading.RateLimiting, ASP.NET Core's rate limiter), WrongKeysPerMinute of them, refilled
/// one at a time; with the bucket empty the answer is 429 with Retry-After instead of 401. A right key
/// never asks the limiter, so a worker behind the same address as a guesser is never slowed.
/// Behind a reverse proxy every client shares the proxy's address (the host does not read
/// X-Forwarded-For, which any client could forge). Not the rate-limiting middleware: it decides before
/// the key is checked, and only wrong keys may be counted.
/// </summary>
public sealed class WrongKeyLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> limiter;

    public WrongKeyLimiter(IOptions<QueueOptions> options)
    {
        var perMinute = Math.Max(1, options.Value.WrongKeysPerMinute);
        limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>Counts a wrong key from <paramref name="address"/>; false, with when to try again, when it has sent too many.</summary>
    public bool Forgives(IPAddress? address, out TimeSpan retryAfter)
    {
        using var lease = limiter.AttemptAcquire(Client(address));
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        return lease.IsAcquired;
    }

    /// <summary>
    /// Whom an address stands for: an IPv4 address itself, an IPv6 address its /64 — one machine may
    /// use any address in its /64, so counting each apart would give a guesser endless allowances.
    /// </summary>
    private static IPAddress Client(IPAddress? address)
    {
        if (address is null) return IPAddress.None;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return address;
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    public void Dispose() => limiter.Dispose();
}
