using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Auth;

/// <summary>
/// GET /api/audit: the audit trail, newest first, for admins. The route lives with the keys (it is read by
/// admin keys, under the Keys tag) so that the trail itself imports nothing of Auth: every feature records to it.
/// </summary>
public static class AuditApi
{
    public static RouteHandlerBuilder MapAudit(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/audit", List)
            .WithTags("Keys")
            .RequireAccess(Access.Admin)
            .WithSummary("Who did what: people's actions on jobs, key and queue changes, newest first (limit, before_id)");

    private static async Task<Results<Ok<IReadOnlyList<AuditEntry>>, BadRequest<ApiError>>> List(string? limit, [FromQuery(Name = "before_id")] string? beforeId, AuditTrail trail)
    {
        var count = 100;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > AuditTrail.MaxPage))
            return TypedResults.BadRequest(new ApiError($"limit must be a whole number from 1 to {AuditTrail.MaxPage}."));
        long? before = null;
        if (!string.IsNullOrEmpty(beforeId))
        {
            if (!long.TryParse(beforeId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return TypedResults.BadRequest(new ApiError("before_id must be an entry's id (a whole number)."));
            before = id;
        }
        return TypedResults.Ok(await trail.ListAsync(count, before));
    }
}
