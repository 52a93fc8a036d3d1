using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Migration;

/// <summary>
/// Copies a SQLite queue into an empty PostgreSQL one in a single transaction, so the target ends
/// with all of it or none: every row of jobs (ids kept), workers, idempotency keys, API keys, the audit trail, uploads, profiles, watched files, keys' quotas and usage, schedules, webhooks and their deliveries (those not
/// yet sent are sent by the new hosts), streamed by
/// binary COPY (a million jobs take seconds, not the minutes row-by-row inserts would), then the
/// id sequences moved past every id the SQLite file handed out, and the queue's pause. The SQLite side is read in one transaction too, so all the
/// tables come from the same moment.
/// </summary>
internal static class QueueCopy
{
    /// <summary>The tables copied, with what one row is called in the report. The target must hold none of their rows.</summary>
    private static readonly (string Table, string Row)[] Tables =
        [("jobs", "job"), ("workers", "worker"), ("idempotency_keys", "idempotency key"), ("api_keys", "API key"), ("audit_log", "audit trail entry"),
         ("webhooks", "webhook"), ("webhook_deliveries", "webhook delivery"), ("uploads", "upload"), ("profiles", "profile"), ("watched_files", "watched file")];

    /// <summary>The settings copied beside them without a line in the report: keys' quotas and usage, and the schedules (docs/quotas.md, docs/schedules.md).</summary>
    private static readonly string[] SettingTables = ["key_quotas", "key_usage", "schedules"];

    /// <summary>The tables whose ids PostgreSQL hands out from a sequence, which must go on past the copied ones.</summary>
    private static readonly string[] IdentityTables = ["jobs", "audit_log", "webhooks", "webhook_deliveries"];

    /// <exception cref="MigrationRefused">The target already holds rows, or the SQLite file has a column PostgreSQL's schema lacks.</exception>
    public static async Task<CopiedQueue> CopyAsync(SqliteConnection source, PostgresDatabase target, CancellationToken cancel)
    {
        using var snapshot = source.BeginTransaction(deferred: true);
        await using var connection = await target.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await RefuseUnlessEmptyAsync(connection, target, cancel);

        var copied = new List<(string Row, long Count)>();
        foreach (var (table, row) in Tables)
            copied.Add((row, await CopyTableAsync(source, snapshot, connection, table, cancel)));
        foreach (var table in SettingTables)
            await CopyTableAsync(source, snapshot, connection, table, cancel);
        foreach (var table in IdentityTables)
            await MoveIdsPastAsync(connection, table, HighestIdEver(source, snapshot, table), cancel);
        await CopyPauseAsync(source, snapshot, connection, cancel);
        var byStatus = CountByStatus(source, snapshot);

        // Not cancellable: once the copy is complete, an interruption should not leave the question of whether it landed.
        await transaction.CommitAsync(CancellationToken.None);
        return new CopiedQueue(byStatus, copied);
    }

    /// <summary>
    /// Copying into a live queue would mix two queues and clash on ids, so the target must be empty.
    /// The tables stay locked against writes until the commit, so no host can add a row in between.
    /// </summary>
    private static async Task RefuseUnlessEmptyAsync(NpgsqlConnection connection, PostgresDatabase target, CancellationToken cancel)
    {
        var tables = string.Join(", ", Tables.Select(table => table.Table));
        await connection.ExecuteAsync(new CommandDefinition($"LOCK TABLE {tables} IN EXCLUSIVE MODE", cancellationToken: cancel));
        var counts = await connection.QuerySingleAsync<long[]>(new CommandDefinition(
            $"SELECT ARRAY[{string.Join(", ", Tables.Select(table => $"(SELECT count(*) FROM {table.Table})"))}]", cancellationToken: cancel));
        if (counts.Any(count => count > 0))
            throw new MigrationRefused($"The PostgreSQL {target.Describe()} (--to) already holds " +
                                       $"{CopiedQueue.List(Tables.Zip(counts, (table, count) => (table.Row, count)).Where(held => held.count > 0))}; " +
                                       "migrate copies into an empty queue only, and wrote nothing.");
    }

    /// <summary>
    /// Streams every row of <paramref name="table"/> into COPY, each column converted to the type the
    /// PostgreSQL schema gives it. Columns are matched by name, so the copy follows new schema steps.
    /// </summary>
    private static async Task<long> CopyTableAsync(SqliteConnection source, SqliteTransaction snapshot, NpgsqlConnection target,
        string table, CancellationToken cancel)
    {
        var targetTypes = await ColumnTypesAsync(target, table, cancel);
        using var read = source.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT * FROM {table}";
        using var rows = read.ExecuteReader();
        var names = Enumerable.Range(0, rows.FieldCount).Select(rows.GetName).ToArray();
        var types = names.Select(name => targetTypes.TryGetValue(name, out var type) ? CopyType(table, name, type)
            : throw new MigrationRefused($"The SQLite queue's column {table}.{name} has no place in the PostgreSQL schema: was the file written " +
                                         "by a newer VideoEncode? Migrate with that version.")).ToArray();

        // The names are the PostgreSQL schema's own (checked above), so they need no quoting.
        await using var copy = await target.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", names)}) FROM STDIN (FORMAT BINARY)", cancel);
        while (rows.Read())
        {
            await copy.StartRowAsync(cancel);
            for (var i = 0; i < types.Length; i++)
                await WriteAsync(copy, rows, i, types[i], cancel);
        }
        return (long)await copy.CompleteAsync(cancel);
    }

    /// <summary>The PostgreSQL schema's columns of <paramref name="table"/> and their types, as information_schema spells them.</summary>
    private static async Task<Dictionary<string, string>> ColumnTypesAsync(NpgsqlConnection target, string table, CancellationToken cancel) =>
        (await target.QueryAsync<(string Name, string Type)>(new CommandDefinition(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table",
            new { table }, cancellationToken: cancel)))
        .ToDictionary(column => column.Name, column => column.Type);

    /// <summary>How a column is written into COPY: the types schema.postgres.sql uses for SQLite's integers, reals and text.</summary>
    private static NpgsqlDbType CopyType(string table, string column, string dataType) => dataType switch
    {
        "bigint" => NpgsqlDbType.Bigint,
        "text" => NpgsqlDbType.Text,
        "double precision" => NpgsqlDbType.Double,
        "boolean" => NpgsqlDbType.Boolean,
        _ => throw new NotSupportedException($"migrate cannot copy into {table}.{column}, of type {dataType}: teach {nameof(QueueCopy)}.{nameof(CopyType)} the type."),
    };

    /// <summary>One SQLite value as the PostgreSQL type; SQLite keeps booleans (cancel_requested, overwrite) as 0 and 1.</summary>
    private static Task WriteAsync(NpgsqlBinaryImporter copy, SqliteDataReader rows, int column, NpgsqlDbType type, CancellationToken cancel)
    {
        if (rows.IsDBNull(column)) return copy.WriteNullAsync(cancel);
        return type switch
        {
            NpgsqlDbType.Bigint => copy.WriteAsync(rows.GetInt64(column), type, cancel),
            NpgsqlDbType.Double => copy.WriteAsync(rows.GetDouble(column), type, cancel),
            NpgsqlDbType.Boolean => copy.WriteAsync(rows.GetInt64(column) != 0, type, cancel),
            _ => copy.WriteAsync(rows.GetString(column), type, cancel),
        };
    }

    /// <summary>A paused queue stays paused on PostgreSQL: its one row is carried over (the target's schema made its own, unpaused).</summary>
    private static async Task CopyPauseAsync(SqliteConnection source, SqliteTransaction snapshot, NpgsqlConnection target, CancellationToken cancel)
    {
        var (paused, pausedAt, pausedBy, resumeAt) = source.QuerySingle<(long, long?, string?, long?)>(
            "SELECT paused, paused_at, paused_by, resume_at FROM queue_state WHERE id = 1", transaction: snapshot);
        await target.ExecuteAsync(new CommandDefinition(
            "UPDATE queue_state SET paused = @paused, paused_at = @pausedAt, paused_by = @pausedBy, resume_at = @resumeAt WHERE id = 1",
            new { paused, pausedAt, pausedBy, resumeAt }, cancellationToken: cancel));
    }

    /// <summary>
    /// The highest id the SQLite file ever handed out in <paramref name="table"/>: sqlite_sequence remembers
    /// the ids of deleted rows too, and AUTOINCREMENT's promise — an id never names a second job, so a worker
    /// holding a deleted job's id cannot touch another — must hold on PostgreSQL as well.
    /// </summary>
    private static long HighestIdEver(SqliteConnection source, SqliteTransaction snapshot, string table) =>
        source.ExecuteScalar<long>(
            $"SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = @table), 0), COALESCE((SELECT max(id) FROM {table}), 0))",
            new { table }, transaction: snapshot);

    /// <summary>
    /// Moves <paramref name="table"/>'s id identity past <paramref name="highest"/> (and never back, should the target
    /// have handed out ids before). A table that never had a row leaves it as it is: setval cannot go to 0.
    /// </summary>
    private static async Task MoveIdsPastAsync(NpgsqlConnection target, string table, long highest, CancellationToken cancel)
    {
        if (highest == 0) return;
        await target.ExecuteAsync(new CommandDefinition("""
            SELECT setval(ids, GREATEST(@highest, COALESCE(pg_sequence_last_value(ids), 0)))
            FROM (SELECT pg_get_serial_sequence(@table, 'id')::regclass AS ids) AS sequence
            """, new { table, highest }, cancellationToken: cancel));
    }

    /// <summary>The copied jobs by status, in the order statuses are usually listed, any unknown ones last.</summary>
    private static IReadOnlyList<(string Status, long Count)> CountByStatus(SqliteConnection source, SqliteTransaction snapshot)
    {
        var counts = source.Query<(string Status, long Count)>("SELECT status, count(*) FROM jobs GROUP BY status", transaction: snapshot)
            .ToDictionary(row => row.Status, row => row.Count);
        return JobStatus.All.Where(counts.ContainsKey).Concat(counts.Keys.Except(JobStatus.All).Order())
            .Select(status => (status, counts[status])).ToList();
    }
}
