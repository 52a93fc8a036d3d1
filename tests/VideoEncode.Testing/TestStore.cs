using Npgsql;

namespace VideoEncode.Testing;

/// <summary>
/// The store the API tests run on: SQLite, or PostgreSQL when VIDEOENCODE_TEST_STORE=postgres.
/// ./test.sh runs the API suite once on each, against a throwaway PostgreSQL server it starts
/// (scripts/postgres.sh) and names in VIDEOENCODE_TEST_POSTGRES. Every test gets a database of its
/// own: a fresh file, or a fresh database on that server.
/// </summary>
public static class TestStore
{
    public const string StoreVariable = "VIDEOENCODE_TEST_STORE";
    public const string ServerVariable = "VIDEOENCODE_TEST_POSTGRES";

    /// <summary>
    /// The "Store" trait of tests that choose their store themselves — SQLite internals, several
    /// hosts on PostgreSQL — rather than follow VIDEOENCODE_TEST_STORE: the PostgreSQL pass of the
    /// API suite leaves them out, so they run once.
    /// </summary>
    public const string RunOnce = "RunOnce";

    public static bool IsPostgres => Environment.GetEnvironmentVariable(StoreVariable) == "postgres";

    /// <summary>A new, empty database on the store under test: a SQLite path or a PostgreSQL connection string.</summary>
    public static string NewDatabase() => IsPostgres ? NewPostgresDatabase() : NewSqlitePath();

    private static bool IsSqlitePath(string database) => !database.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public static string NewSqlitePath() =>
        Path.Combine(Path.GetTempPath(), "videoencode-tests", Guid.NewGuid().ToString("N"), "queue.db");

    /// <summary>The PostgreSQL server the tests may create databases on.</summary>
    public static string PostgresServer => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server
        ? server
        : throw new InvalidOperationException(
            $"{ServerVariable} is not set. ./test.sh starts a throwaway PostgreSQL and sets it; by hand: " +
            $"export {ServerVariable}=\"$(scripts/postgres.sh start /tmp/videoencode-pg)\"");

    /// <summary>Creates a database of its own on the test server and answers its connection string.</summary>
    public static string NewPostgresDatabase()
    {
        var name = "videoencode_test_" + Guid.NewGuid().ToString("N");
        using (var server = new NpgsqlConnection(PostgresServer))
        {
            server.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", server);
            create.ExecuteNonQuery();
        }
        // A small pool per test host: several hosts at once must stay within the server's max_connections.
        return new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    /// <summary>
    /// The media folder (uploads) of a test database's host: beside the SQLite file, or a temporary folder named
    /// after the PostgreSQL database — so hosts sharing a database share it too, and it goes when the database does.
    /// </summary>
    public static string MediaFolder(string database) => IsSqlitePath(database)
        ? Path.Combine(Path.GetDirectoryName(database)!, "media")
        : Path.Combine(Path.GetTempPath(), "videoencode-tests", new NpgsqlConnectionStringBuilder(database).Database!, "media");

    /// <summary>Removes a test database: the SQLite file's folder, or the PostgreSQL database (closing whatever still uses it), and its media folder.</summary>
    public static void Delete(string database)
    {
        try { Directory.Delete(Path.GetDirectoryName(MediaFolder(database))!, recursive: true); }
        catch (DirectoryNotFoundException) { /* a test that never started a host */ }
        catch (IOException) { /* a leftover temp folder is harmless */ }
        if (IsSqlitePath(database)) return;
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        NpgsqlConnection.ClearAllPools();
        using var server = new NpgsqlConnection(PostgresServer);
        server.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", server);
        drop.ExecuteNonQuery();
    }
}
