using Microsoft.Data.Sqlite;

namespace VideoEncode.Api.Database.Sqlite;

/// <summary>
/// Where the queue's SQLite file lives and how connections to it are made. Writes go through
/// <see cref="SqliteWriter"/> only; reads open their own pooled, read-only connections, which
/// WAL lets run beside the writer without blocking it.
/// </summary>
public sealed class QueueDatabase
{
    public QueueDatabase(string path)
    {
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        WriteConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        ReadConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
    }

    private string WriteConnectionString { get; }

    private string ReadConnectionString { get; }

    /// <summary>A read-only connection for one request; dispose it to return it to the pool.</summary>
    public SqliteConnection OpenRead()
    {
        var connection = new SqliteConnection(ReadConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Opens the one writing connection with the settings every write relies on:
    /// incremental vacuum first, as it takes effect only on a file that has nothing in it yet
    /// (<see cref="IncrementalVacuum"/>; an older file is converted once); WAL, so readers never wait for the writer; synchronous=FULL, so a committed transaction
    /// has been fsynced to the WAL before anyone is told it happened (NORMAL could lose the last
    /// commits on power loss); foreign keys on; and a busy timeout in case another process
    /// (a backup, the sqlite3 shell) holds the lock for a moment.
    /// </summary>
    internal SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(WriteConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA auto_vacuum = INCREMENTAL;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA busy_timeout = 5000;
            """;
        command.ExecuteNonQuery();
        return connection;
    }
}
