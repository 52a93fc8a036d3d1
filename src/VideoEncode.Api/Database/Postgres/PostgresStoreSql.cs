using System.Data.Common;

namespace VideoEncode.Api.Database.Postgres;

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
