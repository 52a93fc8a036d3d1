namespace VideoEncode.Api.Auth;

/// <summary>
/// Who is calling: the name and role of the key the request carried (<see cref="ApiKeyMiddleware"/>
/// sets it). A handler that records who did something takes a <see cref="Caller"/> parameter.
/// </summary>
public sealed record Caller(string Name, string Role)
{
    public bool May(Access access) => Roles.Grants(Role, access);

    /// <summary>Lets minimal-API handlers take the caller as a parameter.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context) =>
        ValueTask.FromResult(context.Features.Get<Caller>());
}
