using Dapper;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database.Postgres;

namespace VideoEncode.Api.Cluster;

/// <summary>
/// Who does the queue's upkeep (expiring leases, forgetting old records): exactly one host at a time.
/// </summary>
public interface ILeadership
{
    /// <summary>Does this host lead now? Asked before each round of upkeep; on a shared store, asking also renews the lead.</summary>
    Task<bool> LeadsAsync();

    /// <summary>Hands the lead over at shutdown, so another host takes it at once rather than when it lapses.</summary>
    Task ResignAsync();
}

/// <summary>SQLite: the host is the only one, and leads.</summary>
public sealed class SoleHost : ILeadership
{
    public Task<bool> LeadsAsync() => Task.FromResult(true);
    public Task ResignAsync() => Task.CompletedTask;
}

/// <summary>
/// PostgreSQL: a row in the leaders table names the leading host, its term and until when it leads
/// unless it renews (database time, so the hosts' clocks need not agree). A host takes the lead
/// when the row has lapsed — its leader died or lost touch — within LeaderLeaseSeconds (5 by
/// default) of the last renewal; each change of holder raises the term. The upkeep itself is safe
/// to overlap: each round is a conditional UPDATE, so if a paused leader wakes after being replaced,
/// two hosts sweeping at once for a moment change nothing twice.
/// </summary>
public sealed class PostgresLeadership(PostgresDatabase database, HostIdentity host, IOptions<QueueOptions> options,
    ILogger<PostgresLeadership> logger) : ILeadership
{
    private const string Duty = "upkeep";
    private long? term;

    public async Task<bool> LeadsAsync()
    {
        await using var connection = await database.OpenAsync();
        var held = await connection.QuerySingleOrDefaultAsync<long?>("""
            INSERT INTO leaders (duty, holder, term, expires_at) VALUES (@Duty, @holder, 1, clock_timestamp() + make_interval(secs => @seconds))
            ON CONFLICT (duty) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
                term = leaders.term + CASE WHEN leaders.holder = excluded.holder THEN 0 ELSE 1 END
            WHERE leaders.holder = excluded.holder OR leaders.expires_at < clock_timestamp()
            RETURNING term
            """, new { Duty, holder = host.Id, seconds = (double)options.Value.LeaderLeaseSeconds });
        if (held != term)
        {
            if (held is { } newTerm) logger.LogInformation("This host leads the queue's upkeep (term {Term}).", newTerm);
            else if (term is not null) logger.LogWarning("This host no longer leads the queue's upkeep: another host took the lead.");
            term = held;
        }
        return held is not null;
    }

    public async Task ResignAsync()
    {
        if (term is null) return;
        await using var connection = await database.OpenAsync();
        await connection.ExecuteAsync("UPDATE leaders SET expires_at = clock_timestamp() WHERE duty = @Duty AND holder = @holder",
            new { Duty, holder = host.Id });
        term = null;
    }
}
