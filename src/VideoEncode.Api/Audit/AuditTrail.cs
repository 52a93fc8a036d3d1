using System.Data.Common;
using Dapper;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Audit;

/// <summary>One recorded action: when, by which key, what, on what.</summary>
public sealed record AuditEntry(long Id, long At, string KeyName, string Action, string? Target, string? Detail);

/// <summary>
/// The audit trail: people's actions on jobs (delete, reset, cancel, retry), key changes and queue-wide
/// changes, each with the name of the key that made it. An entry is written in the transaction of the
/// change it records, so neither is ever kept without the other.
/// </summary>
public sealed class AuditTrail(IStoreSql store)
{
    public const int MaxPage = 1000;

    /// <summary>Records an action inside the caller's write transaction (the same SQL on both stores).</summary>
    public static Task RecordAsync(DbConnection connection, long now, string keyName, string action, string? target, string? detail = null) =>
        connection.ExecuteAsync("INSERT INTO audit_log (at, key_name, action, target, detail) VALUES (@now, @keyName, @action, @target, @detail)",
            new { now, keyName, action, target, detail });

    /// <summary>Deletes at most <paramref name="limit"/> entries recorded before <paramref name="before"/> (unix seconds), oldest first; answers how many.</summary>
    public Task<int> ForgetBeforeAsync(long before, int limit) =>
        store.WriteAsync(connection => connection.ExecuteAsync(
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < @before ORDER BY at LIMIT @limit)", new { before, limit }));

    /// <summary>Newest first; <paramref name="beforeId"/> pages back.</summary>
    public Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, long? beforeId) =>
        store.ReadAsync<IReadOnlyList<AuditEntry>>(async connection => (await connection.QueryAsync<AuditEntry>(
            "SELECT id, at, key_name, action, target, detail FROM audit_log WHERE @beforeId IS NULL OR id < @beforeId ORDER BY id DESC LIMIT @limit",
            new { beforeId, limit })).AsList());
}
