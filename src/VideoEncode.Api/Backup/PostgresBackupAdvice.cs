using Npgsql;

namespace VideoEncode.Api.Backup;

/// <summary>
/// A PostgreSQL queue is backed up with PostgreSQL's own tools, not by the host: pg_dump takes a
/// consistent snapshot of a running database without stopping anyone (one transaction, repeatable
/// read), its version must match the server's, and the server is usually backed up already (base
/// backups, WAL archiving). So the backup command and route answer with the command to run, for the
/// configured database — never its password (use PGPASSWORD or ~/.pgpass).
/// </summary>
public static class PostgresBackupAdvice
{
    public static string For(string connectionString, string file)
    {
        var target = Target(connectionString);
        return $"The queue is in PostgreSQL: back it up with pg_dump, while the hosts run: " +
               $"pg_dump --format=custom {target} --file={Quote(file)} " +
               $"(the password from PGPASSWORD or ~/.pgpass). Restore into an empty database, with the hosts stopped: " +
               $"pg_restore --no-owner {target} {Quote(file)}";
    }

    private static string Target(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var parts = new List<string> { $"--host={Quote(settings.Host ?? "localhost")}", $"--port={settings.Port}" };
        if (!string.IsNullOrEmpty(settings.Username)) parts.Add($"--username={Quote(settings.Username)}");
        parts.Add($"--dbname={Quote(settings.Database ?? settings.Username ?? "postgres")}");
        return string.Join(' ', parts);
    }

    /// <summary>Single-quoted for a POSIX shell when it holds anything but plain characters.</summary>
    private static string Quote(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or ':' or '@')
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";
}
