using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Database;
using VideoEncode.Api.Quotas;

namespace VideoEncode.Api.Auth;

/// <summary>A stored key as listed: never its secret. The keys route adds its quota (null: none) and today's usage.</summary>
public sealed record ApiKeyInfo(string Name, string Role, long CreatedAt, string? CreatedBy, long? LastUsedAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QuotaUsage? Usage { get; init; }

    public Quota? Quota { get; init; }
}

/// <summary>A key just made: the only time its secret is shown; with its quota, if one was given.</summary>
public sealed record CreatedKey(string Name, string Role, string Key, long CreatedAt, Quota? Quota = null);

/// <summary>
/// The named keys, on either store. A key is 256 random bits; only its SHA-256 is stored, which is
/// enough for a secret that cannot be guessed (a slow password hash protects weak secrets, and these
/// are not weak). Creating and revoking a key is recorded in the audit trail in the same transaction.
/// </summary>
public sealed class ApiKeyStore(IStoreSql store, TimeProvider clock)
{
    private const string KeyPrefix = "vek_";

    private long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The stored form of a presented key.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A new key's secret: 256 random bits, base64url, behind a prefix that tells what it is.</summary>
    public static string NewSecret() => KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Makes a key, with its quota when one is given (in the same transaction); null when the name is taken.</summary>
    public Task<CreatedKey?> CreateAsync(string name, string role, string actor, Quota? quota = null)
    {
        var key = NewSecret();
        var now = Now;
        return store.WriteAsync(async connection =>
        {
            var created = await connection.QuerySingleOrDefaultAsync<long?>("""
                INSERT INTO api_keys (name, role, key_hash, created_at, created_by) VALUES (@name, @role, @hash, @now, @actor)
                ON CONFLICT (name) DO NOTHING RETURNING created_at
                """, new { name, role, hash = Hash(key), now, actor });
            if (created is null) return null;
            await AuditTrail.RecordAsync(connection, now, actor, "key.create", name, $"role {role}");
            if (quota is { IsEmpty: false }) await QuotaBook.SetAsync(connection, name, quota, now, actor);
            return new CreatedKey(name, role, key, now, quota is { IsEmpty: false } ? quota : null);
        });
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListAsync() =>
        store.ReadAsync<IReadOnlyList<ApiKeyInfo>>(async connection => (await connection.QueryAsync<ApiKeyInfo>(
            "SELECT name, role, created_at, created_by, last_used_at FROM api_keys ORDER BY name")).AsList());

    /// <summary>Whether a key of this name is stored.</summary>
    public Task<bool> ExistsAsync(string name) =>
        store.ReadAsync(async connection => await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE name = @name", new { name }) > 0);

    /// <summary>Whether any key is stored (one besides the configured key exists).</summary>
    public Task<bool> AnyAsync() =>
        store.ReadAsync(async connection => await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM (SELECT 1 FROM api_keys LIMIT 1) AS one") > 0);

    /// <summary>Deletes the key; false when there is none by that name.</summary>
    public Task<bool> RevokeAsync(string name, string actor)
    {
        var now = Now;
        return store.WriteAsync(async connection =>
        {
            var role = await connection.QuerySingleOrDefaultAsync<string?>("DELETE FROM api_keys WHERE name = @name RETURNING role", new { name });
            if (role is null) return false;
            await QuotaBook.ForgetAsync(connection, name);
            await AuditTrail.RecordAsync(connection, now, actor, "key.revoke", name, $"role {role}");
            return true;
        });
    }

    /// <summary>
    /// The key whose hash this is. The lookup compares hashes, not secrets: how long it takes can tell
    /// an attacker only about the SHA-256 of what they sent, which says nothing about any stored key.
    /// </summary>
    public Task<Caller?> FindAsync(string hash) =>
        store.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<Caller?>(
            "SELECT name, role FROM api_keys WHERE key_hash = @hash", new { hash }));

    public Task TouchAsync(string name, long now) =>
        store.WriteAsync(connection => connection.ExecuteAsync("UPDATE api_keys SET last_used_at = @now WHERE name = @name", new { name, now }));
}
