using Npgsql;

namespace VideoEncode.Api.Database;

/// <summary>
/// Where the queue is kept, read from the Database setting (VIDEOENCODE_DATABASE): a SQLite file
/// path (the default, one host), or a PostgreSQL connection string — "Host=…;Database=…;Username=…"
/// or a "postgres://user:password@host:port/database" URL — for several hosts sharing one queue.
/// </summary>
public sealed record DatabaseLocation(string? SqlitePath, string? PostgresConnectionString)
{
    /// <summary>Is the queue in PostgreSQL, where other hosts may share it?</summary>
    public bool IsShared => PostgresConnectionString is not null;

    /// <exception cref="ArgumentException">A URL or connection string that cannot be read (the message says why, without the password).</exception>
    public static DatabaseLocation Parse(string setting)
    {
        var text = setting.Trim();
        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return new(null, FromUrl(text));
        if (LooksLikeConnectionString(text))
        {
            try
            {
                return new(null, new NpgsqlConnectionStringBuilder(text).ConnectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"not a PostgreSQL connection string: {e.Message}");
            }
        }
        return new(text, null);
    }

    /// <summary>"Host=…" or "Server=…" among ';'-separated key=value pairs: a file path has neither.</summary>
    private static bool LooksLikeConnectionString(string text) =>
        text.Contains('=') && text.Split(';').Any(part => part.Split('=')[0].Trim() is var key &&
            (key.Equals("Host", StringComparison.OrdinalIgnoreCase) || key.Equals("Server", StringComparison.OrdinalIgnoreCase)));

    /// <summary>postgres://user:password@host:port/database?sslmode=require → Npgsql's key=value form.</summary>
    private static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException("not a PostgreSQL URL (expected postgres://user:password@host:port/database)");
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (uri.Port > 0) builder.Port = uri.Port;
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            try
            {
                builder[Uri.UnescapeDataString(key)] = Uri.UnescapeDataString(value);
            }
            catch (ArgumentException)
            {
                throw new ArgumentException($"the URL's option '{Uri.UnescapeDataString(key)}' is not a PostgreSQL connection setting");
            }
        }
        return builder.ConnectionString;
    }
}
