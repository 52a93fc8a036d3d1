using System.Data.Common;
using VideoEncode.Api.Database.Sqlite;

namespace VideoEncode.Api.Stats;

/// <summary>
/// The statistics on SQLite. The count by status is answered from the (status, id) index alone;
/// INDEXED BY pins the partial indexes, which SQLite without statistics might pass over.
/// </summary>
public sealed class SqliteStatsStore(QueueDatabase database, TimeProvider clock) : StatsStore(clock)
{
    protected override Task<DbConnection> OpenAsync() => Task.FromResult<DbConnection>(database.OpenRead());

    protected override string LastHourSql => """
        SELECT COUNT(*), AVG(started - created_at), AVG(finished - started) FROM jobs INDEXED BY jobs_finished_at
        WHERE finished >= @since AND status = 'finished'
        """;

    protected override string PerMinuteSql => """
        SELECT finished / 60, SUM(status = 'finished'), SUM(status = 'failed') FROM jobs INDEXED BY jobs_finished_at
        WHERE finished >= @since GROUP BY finished / 60
        """;
}
