using Microsoft.Extensions.Options;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Quotas;

/// <summary>Keys' quotas and usage for the keys routes, on whichever store (<see cref="QuotaBook"/> holds the statements).</summary>
public sealed class QuotaStore(IStoreSql store, TimeProvider clock, IOptions<QueueOptions> options)
{
    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    public Task<KeyQuota> ReadAsync(string key) => store.ReadAsync(connection => QuotaBook.ReadAsync(connection, key, Now, options.Value.QuotaResetHour));

    /// <summary>Several keys' quotas and usage, in the order asked (the keys page: a handful of keys).</summary>
    public Task<IReadOnlyList<KeyQuota>> ReadManyAsync(IReadOnlyList<string> keys) =>
        store.ReadAsync<IReadOnlyList<KeyQuota>>(async connection =>
        {
            var now = Now;
            var found = new List<KeyQuota>(keys.Count);
            foreach (var key in keys) found.Add(await QuotaBook.ReadAsync(connection, key, now, options.Value.QuotaResetHour));
            return found;
        });

    /// <summary>Sets a key's quota (an empty one removes it), recorded in the audit trail; answers the quota and usage.</summary>
    public async Task<KeyQuota> SetAsync(string key, Quota quota, string actor)
    {
        var now = Now;
        return await store.WriteAsync(async connection =>
        {
            await QuotaBook.SetAsync(connection, key, quota, now, actor);
            await AuditTrail.RecordAsync(connection, now, actor, "key.quota", key, Describe(quota));
            return await QuotaBook.ReadAsync(connection, key, now, options.Value.QuotaResetHour);
        });
    }

    private static string Describe(Quota quota) => quota.IsEmpty ? "none"
        : $"{Quota.JobsPerDayName} {quota.JobsPerDay?.ToString() ?? "-"}, {Quota.EncodeSecondsPerDayName} {quota.EncodeSecondsPerDay?.ToString() ?? "-"}, " +
          $"{Quota.MaxPendingName} {quota.MaxPending?.ToString() ?? "-"}";
}
