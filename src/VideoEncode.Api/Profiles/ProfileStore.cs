using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>
/// The saved profiles, beside the built-in ones (<see cref="BuiltInProfiles"/>), on either store with
/// the same SQL. A built-in name always means the built-in profile: the API refuses to save one.
/// </summary>
public sealed class ProfileStore(IStoreSql store, TimeProvider clock)
{
    // Properties rather than a positional record: Dapper applies the settings column's handler to properties.
    private sealed class Row
    {
        public string Name { get; init; } = "";
        public EncodeSettings Settings { get; init; } = new();
        public long UpdatedAt { get; init; }
        public string? UpdatedBy { get; init; }
    }

    public async Task<IReadOnlyList<Profile>> ListAsync()
    {
        var saved = await store.ReadAsync(async connection =>
            (await connection.QueryAsync<Row>("SELECT name, settings, updated_at, updated_by FROM profiles ORDER BY name")).AsList());
        return [.. BuiltInProfiles.All.Select(builtIn => new Profile(builtIn.Key, true, builtIn.Value)),
            .. saved.Select(row => new Profile(row.Name, false, row.Settings, row.UpdatedAt, row.UpdatedBy))];
    }

    public async Task<Profile?> GetAsync(string name) => (await FindAsync([name])).GetValueOrDefault(name);

    /// <summary>The profiles among <paramref name="names"/> that exist, by name: one read for the saved ones, none when all are built in.</summary>
    public async Task<IReadOnlyDictionary<string, Profile>> FindAsync(IReadOnlyCollection<string> names)
    {
        var found = new Dictionary<string, Profile>(StringComparer.Ordinal);
        foreach (var name in names)
            if (BuiltInProfiles.All.TryGetValue(name, out var builtIn)) found[name] = new Profile(name, true, builtIn);
        var saved = names.Where(name => !found.ContainsKey(name)).ToArray();
        if (saved.Length == 0) return found;
        var rows = await store.ReadAsync(async connection =>
        {
            var rows = new List<Row>();
            // One statement per name: a request names few profiles, and this SQL reads the same on both stores.
            foreach (var name in saved)
                if (await connection.QuerySingleOrDefaultAsync<Row>(
                        "SELECT name, settings, updated_at, updated_by FROM profiles WHERE name = @name", new { name }) is { } row)
                    rows.Add(row);
            return rows;
        });
        foreach (var row in rows) found[row.Name] = new Profile(row.Name, false, row.Settings, row.UpdatedAt, row.UpdatedBy);
        return found;
    }

    /// <summary>Saves <paramref name="settings"/> as <paramref name="name"/> (not a built-in name); answers the profile and whether it is new.</summary>
    public Task<(Profile Profile, bool Created)> SaveAsync(string name, EncodeSettings settings, string by) =>
        store.WriteAsync(async connection =>
        {
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            var created = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM profiles WHERE name = @name", new { name }) == 0;
            await connection.ExecuteAsync("""
                INSERT INTO profiles (name, settings, created_at, updated_at, updated_by) VALUES (@name, @settings, @now, @now, @by)
                ON CONFLICT (name) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, new { name, settings, now, by });
            await AuditTrail.RecordAsync(connection, now, by, created ? "profile.create" : "profile.update", name,
                DapperSetup.SettingsColumn.Write(settings));
            return (new Profile(name, false, settings, now, by), created);
        });

    /// <summary>Deletes a saved profile; false when there is none of that name. Jobs made from it keep their copies.</summary>
    public Task<bool> DeleteAsync(string name, string by) =>
        store.WriteAsync(async connection =>
        {
            if (await connection.ExecuteAsync("DELETE FROM profiles WHERE name = @name", new { name }) == 0) return false;
            await AuditTrail.RecordAsync(connection, clock.GetUtcNow().ToUnixTimeSeconds(), by, "profile.delete", name);
            return true;
        });
}
