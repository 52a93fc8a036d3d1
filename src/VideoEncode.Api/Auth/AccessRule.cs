namespace VideoEncode.Api.Auth;

/// <summary>
/// Endpoint metadata: the access a route needs (<see cref="ApiKeyMiddleware"/> enforces it). A route
/// under /api without one is for admins only, so a route added without thought is closed, not open.
/// <paramref name="ClaimHolders"/>: a worker's key may also call the route for a job it holds — the
/// handler then asks for the claim token (a worker confirming a cancel).
/// </summary>
public sealed record AccessRule(Access Required, bool ClaimHolders = false)
{
    public static readonly AccessRule AdminOnly = new(Access.Admin);

    /// <summary>May <paramref name="caller"/> call the route (for a claim holder: subject to the handler's check of the token)?</summary>
    public bool Admits(Caller caller) => caller.May(Required) || (ClaimHolders && caller.May(Access.Work));
}

public static class AccessRuleExtensions
{
    /// <summary>The access these routes need; on a group it covers every route in it unless a route names its own.</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, Access access, bool claimHolders = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(access, claimHolders));
}
