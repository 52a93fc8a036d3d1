using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace VideoEncode.Api.Database;

/// <summary>
/// Brings a database file up to the schema in schema.sql: every "-- step N" section whose N is
/// above the file's PRAGMA user_version runs once, in its own transaction, and then records N.
/// </summary>
internal static partial class SchemaMigrator
{
    public static void Migrate(SqliteConnection connection)
    {
        var current = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        foreach (var (version, sql) in Steps())
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

    private static IEnumerable<(int Version, string Sql)> Steps()
    {
        var text = ReadSchema();
        var markers = StepMarker().Matches(text);
        for (var i = 0; i < markers.Count; i++)
        {
            var start = markers[i].Index + markers[i].Length;
            var end = i + 1 < markers.Count ? markers[i + 1].Index : text.Length;
            yield return (int.Parse(markers[i].Groups[1].Value), text[start..end]);
        }
    }

    private static string ReadSchema()
    {
        using var stream = typeof(SchemaMigrator).Assembly.GetManifestResourceStream("schema.sql")
            ?? throw new InvalidOperationException("schema.sql is not embedded in the host assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
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

    [GeneratedRegex(@"^-- step (\d+)[ \t]*\r?$", RegexOptions.Multiline)]
    private static partial Regex StepMarker();
}
