using Microsoft.Data.Sqlite;

namespace VideoEncode.Api.Database.Sqlite;

/// <summary>
/// Brings a database file up to the schema in schema.sql (<see cref="SchemaSteps"/>): every step
/// above the file's PRAGMA user_version runs once, in its own transaction, and then records N.
/// </summary>
internal static class SchemaMigrator
{
    public static void Migrate(SqliteConnection connection)
    {
        var current = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        foreach (var (version, sql) in SchemaSteps.Read("schema.sql"))
        {
            if (version <= current) continue;
            Execute(connection, "BEGIN IMMEDIATE");
            try
            {
                Execute(connection, sql);
                Execute(connection, $"PRAGMA user_version = {version}");
                Execute(connection, "COMMIT");
            }
            catch
            {
                Execute(connection, "ROLLBACK");
                throw;
            }
        }
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

}
