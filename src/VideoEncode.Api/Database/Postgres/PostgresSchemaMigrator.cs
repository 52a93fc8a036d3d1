using Dapper;
using Npgsql;

namespace VideoEncode.Api.Database.Postgres;

/// <summary>
/// Brings a PostgreSQL database up to schema.postgres.sql (<see cref="SchemaSteps"/>). Hosts that
/// start together take turns on an advisory lock, so each step runs exactly once; every step runs
/// in its own transaction with the version it brings the database to.
/// </summary>
internal static class PostgresSchemaMigrator
{
    /// <summary>An arbitrary number that no other application on the same server is likely to lock ("VideoEnc").</summary>
    private const long MigrationLock = 0x56696465_6F456E63;

    public static async Task MigrateAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("SELECT pg_advisory_lock(@MigrationLock)", new { MigrationLock });
        try
        {
            await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
            var current = await connection.QuerySingleAsync<int>("SELECT COALESCE(MAX(version), 0) FROM schema_version");
            foreach (var (version, sql) in SchemaSteps.Read("schema.postgres.sql"))
            {
                if (version <= current) continue;
                await using var transaction = await connection.BeginTransactionAsync();
                await connection.ExecuteAsync(sql);
                await connection.ExecuteAsync("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (@version)", new { version });
                await transaction.CommitAsync();
            }
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock });
        }
    }
}
