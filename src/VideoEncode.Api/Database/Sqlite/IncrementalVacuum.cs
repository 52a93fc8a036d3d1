using Microsoft.Data.Sqlite;

namespace VideoEncode.Api.Database.Sqlite;

/// <summary>
/// Keeps the SQLite file from only ever growing. SQLite keeps the pages of deleted rows inside the
/// file for reuse; with <c>auto_vacuum = INCREMENTAL</c> they can be handed back to the file system
/// a few at a time (<c>PRAGMA incremental_vacuum(N)</c>), which retention does after each round that
/// deleted jobs (<see cref="Upkeep.JobRetention"/>). A new file gets the setting before its first table
/// (<see cref="QueueDatabase.OpenWriter"/> sets it first of all); a file made before it existed is
/// converted once, at start-up, by a full VACUUM.
/// </summary>
internal static class IncrementalVacuum
{
    /// <summary>Pages handed back per step: 4 MB at SQLite's default page size, a few milliseconds of the writer's time.</summary>
    public const int PagesPerStep = 1000;

    /// <summary>
    /// Converts a file that does not have the setting yet. The conversion is a VACUUM, which rewrites
    /// the whole file (and needs as much free disk again for a moment), so it runs once, here, before
    /// the host serves anything. VACUUM cannot run inside a transaction, and every schema step runs in
    /// one (<see cref="SchemaMigrator"/>), so it cannot be a step of schema.sql. A conversion that fails
    /// (a full disk) leaves the file as it was: the host runs on and tries again at its next start.
    /// </summary>
    public static void TurnOn(SqliteConnection writer, ILogger logger)
    {
        if (Pragma(writer, "auto_vacuum") == Incremental) return;
        logger.LogWarning("Converting the database file to incremental vacuum, once: VACUUM rewrites the file, which takes a while for a large queue.");
        try
        {
            Execute(writer, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
            logger.LogInformation("The database file now hands the space of deleted jobs back to the file system.");
        }
        catch (SqliteException e)
        {
            logger.LogWarning(e, "Could not convert the database file to incremental vacuum; it keeps working as before, and the host tries again at its next start.");
        }
    }

    /// <summary>Hands up to <see cref="PagesPerStep"/> free pages back; answers how many free pages remain.</summary>
    public static long Step(SqliteConnection writer)
    {
        Execute(writer, $"PRAGMA incremental_vacuum({PagesPerStep})");
        return Pragma(writer, "freelist_count");
    }

    /// <summary>PRAGMA auto_vacuum's value for INCREMENTAL (0 is NONE, 1 FULL).</summary>
    private const long Incremental = 2;

    private static long Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
