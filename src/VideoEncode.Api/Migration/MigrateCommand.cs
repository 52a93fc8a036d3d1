using System.CommandLine;
using Microsoft.Data.Sqlite;
using Npgsql;
using VideoEncode.Api.Database;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Migration;

/// <summary>
/// `VideoEncode.Api migrate --from FILE --to DATABASE`: moves a queue kept in SQLite into an empty
/// PostgreSQL database, so that several hosts can share it (<see cref="QueueCopy"/>). It prints what
/// it copied; a refusal or a failure is one line on stderr and exit code 1, never a stack trace.
/// </summary>
internal static class MigrateCommand
{
    public const string Name = "migrate";

    public static Task<int> RunAsync(string[] args)
    {
        var from = new Option<string>("--from")
        {
            HelpName = "file",
            Description = $"The SQLite file the host kept its queue in (its {SettingNames.DatabaseVariable}), e.g. data/videoencode.db.",
            Required = true,
        };
        var to = new Option<string>("--to")
        {
            HelpName = "database",
            Description = "The PostgreSQL database to copy into: \"Host=…;Database=…;Username=…\" or postgres://user@host:port/database. " +
                          "Leave the password out and set PGPASSWORD (or use ~/.pgpass): other users can read command lines.",
            Required = true,
        };
        // Help prints the description as written, so it is wrapped by hand.
        var migrate = new Command(Name, $"""
            Copy a SQLite queue into an empty PostgreSQL database, for several hosts to share: every
            job (ids, statuses and claims kept, so running encodes can still finish), the workers seen
            and the idempotency keys, in one transaction: all of it or nothing.

            Stop the host that uses the SQLite file first: what it changes once the copy has begun
            stays behind. Then start the hosts with {SettingNames.DatabaseVariable} naming the PostgreSQL
            database. The SQLite file is brought up to the current schema, otherwise left as it is.
            """)
        {
            from, to,
        };
        migrate.SetAction((parsed, cancel) => MigrateAsync(parsed.GetValue(from)!, parsed.GetValue(to)!, cancel));
        return new RootCommand("VideoEncode host") { migrate }.Parse(args).InvokeAsync();
    }

    private static async Task<int> MigrateAsync(string fromPath, string toSetting, CancellationToken cancel)
    {
        DatabaseLocation to;
        try
        {
            to = DatabaseLocation.Parse(toSetting);
        }
        catch (ArgumentException e)
        {
            return Fail($"Cannot read --to: {e.Message}.");
        }
        if (!to.IsShared)
            return Fail("--to must name a PostgreSQL database (\"Host=…;Database=…;Username=…\" or postgres://user@host:port/database), not a file.");

        await using var target = new PostgresDatabase(to.PostgresConnectionString!);
        try
        {
            using var source = SqliteQueueFile.OpenForCopy(fromPath);
            await PostgresSchemaMigrator.MigrateAsync(target.DataSource);
            var copied = await QueueCopy.CopyAsync(source, target, cancel);
            Console.WriteLine($"Copied {copied} from {fromPath} to {target.Describe()}.");
            return 0;
        }
        catch (MigrationRefused refused)
        {
            return Fail(refused.Message);
        }
        catch (SqliteException e)
        {
            return Fail($"Cannot read the SQLite queue '{fromPath}' (--from): {e.Message}");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Fail($"Cannot copy into the PostgreSQL {target.Describe()} (check --to, that the server is up and that the database exists): {e.Message}");
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return Fail("Interrupted before the copy was committed: nothing was copied.");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
