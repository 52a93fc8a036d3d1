using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Guards every path under /api — routes that exist today and any added tomorrow — and /metrics
/// (unless MetricsOpen) with the X-API-Key header. CORS preflights are answered before this runs, as browsers send them without
/// the header. The key is never logged.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<QueueOptions> options)
{
    public const string HeaderName = "X-API-Key";

    // Comparing SHA-256 digests keeps the comparison constant-time even when the lengths differ.
    private readonly byte[] expectedDigest = Digest(options.Value.ApiKey);

    public Task InvokeAsync(HttpContext context)
    {
        if (!IsProtected(context.Request.Path) || IsExpectedKey(context.Request.Headers[HeaderName]))
            return next(context);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return context.Response.WriteAsJsonAsync(new ApiError("Unauthorized"), WireJson.Options);
    }

    private bool IsProtected(PathString path) =>
        path.StartsWithSegments("/api") || (path.StartsWithSegments("/metrics") && !options.Value.MetricsOpen);

    private bool IsExpectedKey(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Digest(presented), expectedDigest);

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
