using System.Globalization;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Guards every path under /api but GET /api/version — routes that exist today and any added tomorrow — and /metrics
/// (unless MetricsOpen) with the X-API-Key header: a missing or unknown key is 401; a known key whose
/// role does not allow the route (<see cref="AccessRule"/>; admins only when a route names none) is
/// 403. An address that has sent too many wrong keys (<see cref="WrongKeyLimiter"/>) is answered 429
/// until its allowance refills, before any key it sends is checked. The caller is then available to
/// handlers as a <see cref="Caller"/>. CORS preflights are answered before this runs, as browsers
/// send them without the header. The key is never logged.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<QueueOptions> options, KeyRing keyRing, WrongKeyLimiter limiter)
{
    public const string HeaderName = "X-API-Key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsProtected(context.Request.Path))
        {
            await next(context);
            return;
        }
        var address = context.Connection.RemoteIpAddress;
        // Before the key is looked at: while the address's allowance is spent no key is checked, the right
        // one included, or a guesser would learn the right key the moment it sent it, at full speed.
        if (limiter.IsSpent(address, out var retryAfter))
        {
            await TooManyAsync(context, retryAfter);
            return;
        }
        var presented = context.Request.Headers[HeaderName].ToString();
        var caller = presented.Length == 0 ? null : await keyRing.AuthenticateAsync(presented);
        if (caller is null)
        {
            if (limiter.Forgives(address, out retryAfter))
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized");
            else
                await TooManyAsync(context, retryAfter);
            return;
        }
        // No endpoint: a path nothing serves, answered 404 whatever the role.
        if (context.GetEndpoint() is { } endpoint && (endpoint.Metadata.GetMetadata<AccessRule>() ?? AccessRule.AdminOnly) is var rule
            && !rule.Admits(caller))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"The key '{caller.Name}' has the role '{caller.Role}', which may not do this; it needs {rule.AllowedRoles}.");
            return;
        }
        context.Features.Set(caller);
        await next(context);
    }

    /// <summary>Everything under /api but its version (which tells nothing a key protects), and /metrics unless open.</summary>
    private bool IsProtected(PathString path) =>
        (path.StartsWithSegments("/api") && !path.Equals(Versions.VersionPath, StringComparison.OrdinalIgnoreCase))
        || (path.StartsWithSegments("/metrics") && !options.Value.MetricsOpen);

    private static Task TooManyAsync(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return RefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many wrong API keys from this address; try again later.");
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ApiError(message), WireJson.Options);
    }
}
