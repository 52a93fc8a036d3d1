using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Versioning;

/// <summary>
/// GET /api/version (no key: <see cref="Auth.ApiKeyMiddleware"/> lets it through): the host's version, the
/// protocol it speaks and the schema step of its database, so a person or a worker can tell what runs
/// before sending a key.
/// </summary>
public static class VersionApi
{
    public static RouteHandlerBuilder MapVersion(this IEndpointRouteBuilder routes) =>
        routes.MapGet(Versions.VersionPath, (DatabaseLocation location) => TypedResults.Ok(Current(location)))
            .WithTags("Health")
            .WithSummary("The host's version, protocol and database schema step; no key needed");

    /// <summary>What this host is: its schema is the last step of the schema file of the database it uses.</summary>
    public static VersionInfo Current(DatabaseLocation location) =>
        new(Versions.Product, Versions.Protocol, location.IsShared ? PostgresSchema.Value : SqliteSchema.Value);

    private static readonly Lazy<int> SqliteSchema = new(() => SchemaSteps.Read("schema.sql").Count());
    private static readonly Lazy<int> PostgresSchema = new(() => SchemaSteps.Read("schema.postgres.sql").Count());
}
