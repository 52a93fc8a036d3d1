using System.Security.Cryptography;
using Npgsql;
using VideoEncode.Api.Database.Postgres;

namespace VideoEncode.Testing;

/// <summary>
/// The store the API tests run on: SQLite, or PostgreSQL when VIDEOENCODE_TEST_STORE=postgres.
/// ./test.sh runs the API suite once on each, against a throwaway PostgreSQL server it starts
/// (scripts/postgres.sh) and names in VIDEOENCODE_TEST_POSTGRES. Every test gets a database of its
/// own: a fresh file, or a fresh database on that server copied from a migrated template.
/// </summary>
public static class TestStore
{
    public const string StoreVariable = "VIDEOENCODE_TEST_STORE";
    public const string ServerVariable = "VIDEOENCODE_TEST_POSTGRES";

    /// <summary>
    /// The "Store" trait of the tests whose point is a rule of the store (the job lifecycle, leases
    /// and fencing, bulk, pause and drain, idempotency, output names, search, the change journal and
    /// events, retention, statistics): ./test.sh runs them on SQLite with the whole suite and again
    /// with VIDEOENCODE_TEST_STORE=postgres. Every other test runs once, on SQLite unless it chooses.
    /// </summary>
    public const string Contract = "Contract";

    /// <summary>
    /// The "Store" trait of tests that choose their store themselves — SQLite internals, several
    /// hosts on PostgreSQL — rather than follow VIDEOENCODE_TEST_STORE: the PostgreSQL pass leaves
    /// them out even in a <see cref="Contract"/> class, so they run once.
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

    /// <summary>
    /// Creates a database of its own on the test server, already at the current schema (a copy of
    /// <see cref="Template"/>, which costs a fraction of running every schema step again; the host
    /// still checks the schema at start-up and finds it current), and answers its connection string.
    /// </summary>
    public static string NewPostgresDatabase() => CreatePostgresDatabase(Template.Value);

    /// <summary>A database of its own with no schema at all, for tests of what migrates an empty database.</summary>
    public static string NewEmptyPostgresDatabase() => CreatePostgresDatabase(template: null);

    private static string CreatePostgresDatabase(string? template)
    {
        var name = "videoencode_test_" + Guid.NewGuid().ToString("N");
        using (var server = new NpgsqlConnection(PostgresServer))
        {
            server.Open();
            Execute(server, template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}");
        }
        // A small pool per test host: several hosts at once must stay within the server's max_connections.
        return new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    /// <summary>An arbitrary advisory lock number ("VETempla") the test processes take turns on while one makes the template.</summary>
    private const long TemplateLock = 0x56455465_6D706C61;

    /// <summary>
    /// The migrated database every test database is copied from, made at most once per server and
    /// schema: its name carries a hash of schema.postgres.sql, so a changed schema gets a new template
    /// and a long-lived server never hands out a stale one. Test processes running at once (./test.sh
    /// runs several) take turns on an advisory lock: the first makes it, the others find it. It is
    /// built under a temporary name and renamed when complete, so a run stopped half-way leaves no
    /// half-migrated template behind.
    /// </summary>
    private static readonly Lazy<string> Template = new(() =>
    {
        var name = "videoencode_template_" + SchemaHash();
        using var server = new NpgsqlConnection(PostgresServer);
        server.Open();
        Execute(server, $"SELECT pg_advisory_lock({TemplateLock})");
        try
        {
            using (var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", server))
            {
                exists.Parameters.AddWithValue("name", name);
                if ((long)exists.ExecuteScalar()! > 0) return name;
            }
            var building = name + "_" + Guid.NewGuid().ToString("N")[..8];
            Execute(server, $"CREATE DATABASE {building}");
            var connection = new NpgsqlConnectionStringBuilder(PostgresServer) { Database = building, Pooling = false }.ConnectionString;
            using (var database = NpgsqlDataSource.Create(connection))
                PostgresSchemaMigrator.MigrateAsync(database).GetAwaiter().GetResult();
            Execute(server, $"ALTER DATABASE {building} RENAME TO {name}");
            return name;
        }
        finally
        {
            Execute(server, $"SELECT pg_advisory_unlock({TemplateLock})");
        }
    });

    private static string SchemaHash()
    {
        using var schema = typeof(PostgresSchemaMigrator).Assembly.GetManifestResourceStream("schema.postgres.sql")
            ?? throw new InvalidOperationException("schema.postgres.sql is not embedded in the host assembly.");
        return Convert.ToHexStringLower(SHA256.HashData(schema))[..16];
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
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
        Execute(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }
}
