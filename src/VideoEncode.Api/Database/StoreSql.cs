using System.Data.Common;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Api.Database.Sqlite;

namespace VideoEncode.Api.Database;

/// <summary>
/// Runs a feature's statements on whichever store the host uses, for the features whose SQL reads
/// the same on SQLite and PostgreSQL (keys, the audit trail, webhooks, the queue's pause): they write
/// their statements once and get each store's way of writing — the single writer on SQLite, a
/// transaction with retries on PostgreSQL — without a class per store. The jobs have a driver of their
/// own (Jobs.IQueueDriver): their claim, locking and batches differ.
/// Portable SQL here means: bigint/integer and text columns (no booleans), INSERT … RETURNING,
/// ON CONFLICT, and Dapper parameters.
/// </summary>
public interface IStoreSql
{
    /// <summary>Runs <paramref name="read"/> on a connection of its own, outside any write.</summary>
    Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read);

    /// <summary>Runs <paramref name="write"/> in one transaction; completes once it is committed (durably).</summary>
    Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancel = default);
}

/// <inheritdoc cref="IStoreSql"/>
public sealed class SqliteStoreSql(QueueDatabase database, SqliteWriter writer) : IStoreSql
{
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read)
    {
        await using var connection = database.OpenRead();
        return await read(connection);
    }

    /// <summary>The write joins the single writer's queue (<see cref="SqliteWriter.WriteAwaitedAsync{T}"/>).</summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancel = default) =>
        writer.WriteAwaitedAsync(connection => new ValueTask<T>(write(connection)), cancel);
}

/// <inheritdoc cref="IStoreSql"/>
public sealed class PostgresStoreSql(PostgresDatabase database) : IStoreSql
{
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read)
    {
        await using var connection = await database.OpenAsync();
        return await read(connection);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancel = default) =>
        database.WriteAsync(connection => write(connection), cancel);
}
