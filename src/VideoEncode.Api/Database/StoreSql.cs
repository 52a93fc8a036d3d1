using System.Data.Common;

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
