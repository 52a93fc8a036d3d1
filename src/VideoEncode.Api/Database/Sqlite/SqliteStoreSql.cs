using System.Data.Common;

namespace VideoEncode.Api.Database.Sqlite;

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
