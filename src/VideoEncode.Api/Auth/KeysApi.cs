using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Http;
using VideoEncode.Api.Quotas;

namespace VideoEncode.Api.Auth;

/// <summary>The request to make a key; "quota" optional ({"jobs_per_day", "encode_seconds_per_day", "max_pending"}, any subset).</summary>
public sealed record NewKey(string Name, string Role, Quota? Quota = null);

/// <summary>GET /api/keys/current: the key's name and role, its quota (null: none) and its usage today.</summary>
public sealed record CurrentKey(string Name, string Role, Quota? Quota, QuotaUsage Usage);

/// <summary>
/// /api/keys: make a named key with a role (its secret shown once), list keys (never the secret),
/// revoke one; and /api/keys/current, which tells any key its own name and role (the pages show or
/// hide their actions by it). The same as `VideoEncode.Api keys …` on the command line.
/// </summary>
public static partial class KeysApi
{
    public static RouteGroupBuilder MapKeys(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/keys").WithTags("Keys").RequireAccess(Access.Admin);
        group.MapPost("/", Create)
            .WithMetadata(new RequestBodyDocumentation(typeof(NewKey)))
            .WithSummary("Make a key with a role (admin, submit, worker, read); the answer is the only time its secret is shown");
        group.MapGet("/", List)
            .WithSummary("The stored keys with their roles, creation, last use, quota and usage today (never the secrets)");
        group.MapDelete("/{name}", Revoke).WithSummary("Revoke a key: it stops working at once");
        group.MapPut("/{name}/quota", SetQuota)
            .WithMetadata(new RequestBodyDocumentation(typeof(Quota)))
            .WithSummary("Set a key's quota (the configured key's too, by its name): any of jobs_per_day, encode_seconds_per_day, max_pending; {} removes it");
        group.MapGet("/current", async (Caller caller, QuotaStore quotas) =>
            {
                var (_, quota, usage) = await quotas.ReadAsync(caller.Name);
                return TypedResults.Ok(new CurrentKey(caller.Name, caller.Role, quota, usage));
            })
            .RequireAccess(Access.Read)
            .WithSummary("The name and role of the key this request carries, its quota and its usage today");
        return group;
    }

    /// <summary>Why a key's name or role cannot be used, or null. Shared with the command line.</summary>
    public static string? Check(string name, string role)
    {
        if (!KeyName().IsMatch(name))
            return "name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.";
        if (string.Equals(name, KeyRing.ConfiguredKeyName, StringComparison.OrdinalIgnoreCase))
            return $"The name {KeyRing.ConfiguredKeyName} is the configured key's; choose another.";
        return Roles.All.Contains(role) ? null : $"role must be one of: {string.Join(", ", Roles.All)}.";
    }

    private static async Task<Results<Created<CreatedKey>, BadRequest<ApiError>, Conflict<ApiError>, JsonHttpResult<ApiError>>> Create(
        HttpRequest request, Caller caller, ApiKeyStore keys, KeyRing keyRing)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, maxBytes: 4096);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                return TypedResults.BadRequest(new ApiError("Send {\"name\": …, \"role\": …} with both as strings."));
            if (Check(name.GetString()!, role.GetString()!) is { } problem) return TypedResults.BadRequest(new ApiError(problem));
            Quota? quota = null;
            if (root.TryGetProperty("quota", out var given))
            {
                (quota, var quotaError) = Quota.Parse(given);
                if (quotaError is not null) return TypedResults.BadRequest(new ApiError(quotaError) { Field = "quota" });
            }
            var created = await keys.CreateAsync(name.GetString()!, role.GetString()!, caller.Name, quota);
            if (created is null) return TypedResults.Conflict(new ApiError($"A key named '{name.GetString()}' exists; revoke it first or choose another name."));
            keyRing.Forget();
            return TypedResults.Created($"/api/keys/{created.Name}", created);
        }
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>>> Revoke(string name, Caller caller, ApiKeyStore keys, KeyRing keyRing)
    {
        if (!await keys.RevokeAsync(name, caller.Name)) return TypedResults.NotFound(new ApiError("Key not found"));
        keyRing.Forget();
        return TypedResults.Ok(new SuccessMessage("Key revoked"));
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> List(ApiKeyStore keys, QuotaStore quotas)
    {
        var listed = await keys.ListAsync();
        var quotaOf = await quotas.ReadManyAsync(listed.Select(key => key.Name).ToList());
        return TypedResults.Ok<IReadOnlyList<ApiKeyInfo>>(listed.Zip(quotaOf, (key, quota) => key with { Quota = quota.Quota, Usage = quota.Usage }).ToList());
    }

    /// <summary>A stored key's quota, or the configured key's (by its name, <see cref="KeyRing.ConfiguredKeyName"/>): it has none unless one is set.</summary>
    private static async Task<Results<Ok<KeyQuota>, NotFound<ApiError>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> SetQuota(
        string name, HttpRequest request, Caller caller, ApiKeyStore keys, QuotaStore quotas)
    {
        if (name != KeyRing.ConfiguredKeyName && !await keys.ExistsAsync(name)) return TypedResults.NotFound(new ApiError("Key not found"));
        var (document, bodyError) = await JsonBody.ReadAsync(request, maxBytes: 4096);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (quota, error) = Quota.Parse(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(new ApiError(error));
            return TypedResults.Ok(await quotas.SetAsync(name, quota!, caller.Name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex KeyName();
}
