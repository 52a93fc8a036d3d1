namespace VideoEncode.Api.Auth;

/// <summary>
/// Endpoint metadata: the access a route needs (<see cref="ApiKeyMiddleware"/> enforces it). A route
/// under /api without one is for admins only, so a route added without thought is closed, not open.
/// <paramref name="ClaimHolders"/>: a worker's key may also call the route for a job it holds — the
/// handler then asks for the claim token (a worker confirming a cancel).
/// <paramref name="OrAlso"/>: a second access that is as good as the first, for routes both people and
/// workers use in their own right (uploads: a person's input, a worker's result).
/// </summary>
public sealed record AccessRule(Access Required, bool ClaimHolders = false, Access? OrAlso = null)
{
    public static readonly AccessRule AdminOnly = new(Access.Admin);

    /// <summary>May <paramref name="caller"/> call the route (for a claim holder: subject to the handler's check of the token)?</summary>
    public bool Admits(Caller caller) => Grants(caller.Role) || (ClaimHolders && caller.May(Access.Work));

    /// <summary>May <paramref name="role"/> call the route in its own right (not as a claim holder)?</summary>
    public bool Grants(string role) => Roles.Grants(role, Required) || (OrAlso is { } other && Roles.Grants(role, other));

    /// <summary>The roles the route admits in their own right, for messages: "admin or submit or worker".</summary>
    public string AllowedRoles => string.Join(" or ", Roles.All.Where(Grants));
}

public static class AccessRuleExtensions
{
    /// <summary>The access these routes need; on a group it covers every route in it unless a route names its own.</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, Access access, bool claimHolders = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(access, claimHolders));

    /// <summary>Routes that either access admits (and admins, who may do everything).</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, Access access, Access orAlso)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(access, OrAlso: orAlso));
}
