using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Guards every path under /api — routes that exist today and any added tomorrow — and /metrics
/// (unless MetricsOpen) with the X-API-Key header: a missing or unknown key is 401 (429 once its
/// address has sent too many, <see cref="WrongKeyLimiter"/>); a known key whose role does not
/// allow the route (<see cref="AccessRule"/>; admins only when a route names none) is 403. The
/// caller is then available to handlers as a <see cref="Caller"/>. CORS preflights are answered
/// before this runs, as browsers send them without the header. The key is never logged.
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
        var presented = context.Request.Headers[HeaderName].ToString();
        var caller = presented.Length == 0 ? null : await keyRing.AuthenticateAsync(presented);
        if (caller is null)
        {
            if (limiter.Forgives(context.Connection.RemoteIpAddress, out var retryAfter))
            {
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized");
                return;
            }
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many wrong API keys from this address; try again later.");
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

    private bool IsProtected(PathString path) =>
        path.StartsWithSegments("/api") || (path.StartsWithSegments("/metrics") && !options.Value.MetricsOpen);

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ApiError(message), WireJson.Options);
    }
}
