using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Slows down guessing: every wrong or missing key takes a token from its client address's bucket
/// (System.Threading.RateLimiting, ASP.NET Core's rate limiter), WrongKeysPerMinute of them, refilled
/// one at a time. With the bucket empty every request from the address is 429 with Retry-After, and
/// its key is not checked at all — the right key included: were the right key let in, a guesser would
/// still learn it the moment it sent it, and guess at full speed. So a worker behind the same address
/// as a guesser waits with it; a right key never takes a token, so it alone never empties the bucket.
/// Behind a reverse proxy every client shares the proxy's address (the host does not read
/// X-Forwarded-For, which any client could forge). Not the rate-limiting middleware, which counts
/// every request: only wrong keys may be counted.
/// </summary>
public sealed class WrongKeyLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> limiter;
    private readonly TimeSpan refill;

    public WrongKeyLimiter(IOptions<QueueOptions> options)
    {
        var perMinute = Math.Max(1, options.Value.WrongKeysPerMinute);
        refill = TimeSpan.FromMinutes(1) / perMinute;
        limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = refill,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>
    /// Whether <paramref name="address"/> has no wrong keys left to send, with when to try again (when its
    /// next token comes, at the latest); counts nothing.
    /// </summary>
    public bool IsSpent(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = refill;
        return limiter.GetStatistics(Client(address)) is { CurrentAvailablePermits: <= 0 };
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
