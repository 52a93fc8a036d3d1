using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;

namespace VideoEncode.Api.Database;

/// <summary>
/// Statements kept compiled on the writer's connection. Dapper builds a new command, and so
/// SQLite compiles the SQL again, on every call; for the statements on the hot path (enqueue,
/// claim, heartbeat, finish) that compilation cost more than running them. A cached
/// <see cref="SqliteCommand"/> keeps its compiled statement, and Dapper still maps the rows.
/// </summary>
internal static class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Cache = new();

    /// <summary>Runs <paramref name="sql"/> with named parameters and maps its first row (null when none).</summary>
    public static T? QueryFirstPrepared<T>(this SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Prepared(connection, sql);
        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        return reader.Read() ? reader.GetRowParser<T>()(reader) : default;
    }

    private static SqliteCommand Prepared(SqliteConnection connection, string sql)
    {
        var commands = Cache.GetOrCreateValue(connection);
        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            commands[sql] = command;
        }
        return command;
    }
}
