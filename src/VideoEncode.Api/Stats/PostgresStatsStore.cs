using System.Data.Common;
using VideoEncode.Api.Database.Postgres;

namespace VideoEncode.Api.Stats;

/// <summary>The statistics on PostgreSQL: the same figures from every host, read from the shared tables.</summary>
public sealed class PostgresStatsStore(PostgresDatabase database, TimeProvider clock) : StatsStore(clock)
{
    protected override async Task<DbConnection> OpenAsync() => await database.OpenAsync();

    // AVG of bigint is numeric in PostgreSQL; the figures are seconds, so float8 is plenty.
    protected override string LastHourSql => """
        SELECT COUNT(*), AVG(started - created_at)::float8, AVG(finished - started)::float8 FROM jobs
        WHERE finished >= @since AND status = 'finished'
        """;

    protected override string PerMinuteSql => """
        SELECT finished / 60, COUNT(*) FILTER (WHERE status = 'finished'), COUNT(*) FILTER (WHERE status = 'failed') FROM jobs
        WHERE finished >= @since GROUP BY finished / 60
        """;
}
