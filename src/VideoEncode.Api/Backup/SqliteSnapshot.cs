using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Backup;

/// <summary>What a snapshot holds: where it is, its size and how many jobs.</summary>
public sealed record Snapshot(string Path, long Bytes, long Jobs)
{
    public override string ToString() => $"{Path}: {Bytes / 1024.0 / 1024.0:0.0} MB, {Jobs} jobs";
}

/// <summary>
/// A consistent copy of a SQLite queue, taken while the host runs: <c>VACUUM INTO</c> on a
/// connection of its own reads one WAL snapshot — every write committed (so every write
/// acknowledged) before it began, nothing after — and writes it compacted into a new file. Readers
/// never block SQLite's writer in WAL mode, so the host keeps serving throughout; only the WAL's
/// checkpoint waits until the copy is done. The copy goes to a temporary name beside the target,
/// is flushed to disk, then renamed, and the folder flushed, so the target is either the whole
/// backup or absent.
/// </summary>
public static class SqliteSnapshot
{
    /// <exception cref="SqliteException">The queue cannot be read, or the target's folder cannot be written.</exception>
    /// <exception cref="IOException">The copy could not be flushed or renamed.</exception>
    public static Snapshot Write(string databasePath, string target, bool replace)
    {
        var full = Path.GetFullPath(target);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            using (var source = Open(databasePath, SqliteOpenMode.ReadWrite))
            using (var vacuum = source.CreateCommand())
            {
                vacuum.CommandText = "VACUUM INTO @target";
                vacuum.Parameters.AddWithValue("@target", temporary);
                vacuum.ExecuteNonQuery();
            }
            var jobs = CountJobs(temporary);
            using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite))
                written.Flush(flushToDisk: true);
            File.Move(temporary, full, overwrite: replace);
            Durable.FlushFolder(Path.GetDirectoryName(full)!);
            return new Snapshot(target, new FileInfo(full).Length, jobs);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Opens the copy as SQLite would a restored file, which also proves it reads.</summary>
    private static long CountJobs(string path)
    {
        using var copy = Open(path, SqliteOpenMode.ReadOnly);
        using var count = copy.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM jobs";
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Not pooled, so the file is let go at once; never creating one (a mistyped path is an error, not an empty queue).</summary>
    private static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false, DefaultTimeout = 30 }.ToString());
        connection.Open();
        using var wait = connection.CreateCommand();
        // A reader waits only while another connection recovers the WAL; a moment, but not an error.
        wait.CommandText = "PRAGMA busy_timeout = 5000";
        wait.ExecuteNonQuery();
        return connection;
    }
}
