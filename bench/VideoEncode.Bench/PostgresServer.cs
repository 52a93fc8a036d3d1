using System.Diagnostics;
using Npgsql;
using VideoEncode.Testing;

namespace VideoEncode.Bench;

/// <summary>
/// The PostgreSQL server the stores comparison makes its databases on (<see cref="TestStore.NewPostgresDatabase"/>):
/// the one named in VIDEOENCODE_TEST_POSTGRES, or else a throwaway cluster under /tmp started with
/// scripts/postgres.sh and stopped on disposal — also when the process ends early, so none outlives the bench.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string? script;
    private readonly string? folder;
    private int stopped;

    private PostgresServer(string? script, string? folder)
    {
        this.script = script;
        this.folder = folder;
        if (script is not null) AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    public static PostgresServer Start()
    {
        if (Environment.GetEnvironmentVariable(TestStore.ServerVariable) is { Length: > 0 })
            return new PostgresServer(null, null);
        var script = Path.Combine(RepositoryRoot(), "scripts", "postgres.sh");
        // Under /tmp, not $TMPDIR: as root the server runs as the postgres user, who must reach the folder.
        var folder = Path.Combine("/tmp", $"videoencode-bench-{Guid.NewGuid():N}");
        var server = new PostgresServer(script, folder);
        Environment.SetEnvironmentVariable(TestStore.ServerVariable, server.Run("start"));
        return server;
    }

    /// <summary>"PostgreSQL 15.x", for the table's heading.</summary>
    public static string Version()
    {
        using var connection = new NpgsqlConnection(TestStore.PostgresServer);
        connection.Open();
        return $"PostgreSQL {connection.PostgreSqlVersion}";
    }

    public void Dispose()
    {
        if (script is null || Interlocked.Exchange(ref stopped, 1) == 1) return;
        NpgsqlConnection.ClearAllPools();
        Run("stop");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>Runs postgres.sh with its progress on our stderr, and answers what it printed on stdout.</summary>
    private string Run(string command)
    {
        var start = new ProcessStartInfo(script!) { RedirectStandardOutput = true };
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(folder!);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"scripts/postgres.sh {command} {folder} failed ({process.ExitCode})");
    }

    /// <summary>The checkout the bench was built in: the nearest folder above the build output that holds scripts/postgres.sh.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "scripts", "postgres.sh"))) return folder.FullName;
        throw new InvalidOperationException($"No scripts/postgres.sh above {AppContext.BaseDirectory}; set {TestStore.ServerVariable} to a PostgreSQL server instead.");
    }
}
