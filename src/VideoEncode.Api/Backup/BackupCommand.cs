using System.CommandLine;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Backup;

/// <summary>
/// `VideoEncode.Api backup --to FILE`: a consistent snapshot of the SQLite queue while the host runs
/// (<see cref="SqliteSnapshot"/>); it prints what it wrote. For a PostgreSQL queue it prints the
/// pg_dump command to use instead (<see cref="PostgresBackupAdvice"/>) and exits 1. A refusal or a
/// failure is one line on stderr and exit code 1, never a stack trace.
/// </summary>
internal static class BackupCommand
{
    public const string Name = "backup";

    public static Task<int> RunAsync(string[] args)
    {
        var to = new Option<string>("--to")
        {
            HelpName = "file",
            Description = "Where to write the backup, e.g. backups/videoencode-2026-11-23.db. An existing file is kept unless --force.",
            Required = true,
        };
        var database = new Option<string?>("--database")
        {
            HelpName = "database",
            Description = $"The queue to back up; by default the host's own ({SettingNames.DatabaseVariable}, or Database in appsettings.json, or data/videoencode.db).",
        };
        var force = new Option<bool>("--force") { Description = "Replace the file at --to if there is one." };
        // Help prints the description as written, so it is wrapped by hand.
        var backup = new Command(Name, """
            Write a consistent copy of the SQLite queue to a file, while the host runs: every job
            acknowledged before the backup began is in it. Writers are not held up meanwhile.

            To restore: stop the host, replace the database file with the backup (and delete the
            old file's -wal and -shm files beside it), start the host. For a PostgreSQL queue this
            prints the pg_dump command to use instead.
            """)
        {
            to, database, force,
        };
        backup.SetAction(parsed => Back(parsed.GetValue(to)!, parsed.GetValue(database) ?? ConfiguredDatabase(), parsed.GetValue(force)));
        return new RootCommand("VideoEncode host") { backup }.Parse(args).InvokeAsync();
    }

    /// <summary>The Database setting as the host would read it from the same folder and environment.</summary>
    private static string ConfiguredDatabase()
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables(SettingNames.EnvironmentPrefix)
            .Build();
        var options = new QueueOptions();
        configuration.Bind(options);
        return options.Database;
    }

    private static int Back(string target, string setting, bool force)
    {
        DatabaseLocation location;
        try
        {
            location = DatabaseLocation.Parse(setting);
        }
        catch (ArgumentException e)
        {
            return Fail($"Cannot read the database setting: {e.Message}.");
        }
        if (location.IsShared)
            return Fail(PostgresBackupAdvice.For(location.PostgresConnectionString!, target));

        var source = location.SqlitePath!;
        if (!File.Exists(source))
            return Fail($"There is no SQLite queue at '{source}' (--database, or {SettingNames.DatabaseVariable}): the file does not exist.");
        if (File.Exists(target) && !force)
            return Fail($"'{target}' exists; choose another --to, or add --force to replace it.");
        try
        {
            var written = SqliteSnapshot.Write(source, target, replace: force);
            Console.WriteLine($"Backed up {source} to {written}.");
            return 0;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            return Fail($"Could not back up '{source}' to '{target}': {e.Message}");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
