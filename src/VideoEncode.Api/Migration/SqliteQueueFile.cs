using Microsoft.Data.Sqlite;
using VideoEncode.Api.Database.Sqlite;

namespace VideoEncode.Api.Migration;

/// <summary>
/// The SQLite queue being moved. It is first brought up to schema.sql, as the host would do on
/// start, so a file from an older version has every column the copy reads; then it is read through
/// a read-only connection.
/// </summary>
internal static class SqliteQueueFile
{
    /// <exception cref="MigrationRefused">There is no file at <paramref name="path"/>, or it is not a VideoEncode queue.</exception>
    /// <exception cref="SqliteException">The file cannot be opened, or is not a SQLite database.</exception>
    public static SqliteConnection OpenForCopy(string path)
    {
        // Checked here because opening would say only "unable to open database file".
        if (!File.Exists(path))
            throw new MigrationRefused($"There is no SQLite queue at '{path}' (--from): the file does not exist.");
        using (var writer = Open(path, SqliteOpenMode.ReadWrite))
        {
            // Every file the host made has step 1 at least; bringing an empty or foreign one "up to date" would invent a queue.
            if (UserVersion(writer) == 0)
                throw new MigrationRefused($"'{path}' (--from) is not a VideoEncode queue: it has no queue schema.");
            SchemaMigrator.Migrate(writer);
        }
        return Open(path, SqliteOpenMode.ReadOnly);
    }

    private static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        // Not pooled: the file is let go as soon as the command is done with it.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static long UserVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }
}
