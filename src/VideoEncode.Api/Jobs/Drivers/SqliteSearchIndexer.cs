using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Database.Sqlite;

namespace VideoEncode.Api.Jobs.Drivers;

/// <summary>
/// Moves new jobs' names from jobs_search_backlog into the trigram index jobs_search (schema step 12),
/// so an enqueue on SQLite pays only a rowid insert and the index work happens here, soon after.
/// Woken by <see cref="Wake"/> after a commit that created jobs, and once at start for what an earlier
/// run, `migrate` or a hand edit left. Each write moves at most <see cref="BatchSize"/> ids, oldest
/// first. Before each, the indexer lets the writes waiting on the single writer go first — for up to
/// <see cref="LongestYield"/>, so that a busy writer still gets its index: during a burst of enqueues
/// the index work waits for the burst instead of sharing its commits, and catches up after it.
/// Searches read the backlog too (<see cref="SqliteQueueDriver.Select"/>), so nothing is missed while a job waits here.
/// </summary>
public sealed class SqliteSearchIndexer(SqliteWriter writer, TimeProvider clock, ILogger<SqliteSearchIndexer> logger) : BackgroundService
{
    internal const int BatchSize = 1000;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan LongestYield = TimeSpan.FromSeconds(1);

    // Capacity one, extra wake-ups dropped: any number of enqueues during a round ask for one more round.
    private readonly Channel<bool> wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private long roundsDone;

    /// <summary>
    /// Rounds done since start, the start-up one included. Tests wait on it where a write of the indexer,
    /// which comes at a moment of its own, would change what they look at (the backlog, the writer's queue).
    /// </summary>
    internal long RoundsDone => Interlocked.Read(ref roundsDone);

    /// <summary>Jobs were created: index them soon.</summary>
    public void Wake() => wakeUps.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        Wake();
        while (await wakeUps.Reader.WaitToReadAsync(stopping))
        {
            wakeUps.Reader.TryRead(out _);
            try
            {
                do await YieldToOtherWritesAsync(stopping);
                while (await writer.WriteAsync(IndexBatch, stopping) == BatchSize);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Searches still find the waiting jobs through the backlog; the next enqueue or start tries again.
                logger.LogError(e, "Indexing new jobs for search failed; trying again after the next enqueue.");
            }
            Interlocked.Increment(ref roundsDone);
        }
    }

    /// <summary>Waits while other writes are queued on the writer, for at most <see cref="LongestYield"/>.</summary>
    private async Task YieldToOtherWritesAsync(CancellationToken stopping)
    {
        for (var waited = TimeSpan.Zero; writer.QueuedWrites > 0 && waited < LongestYield; waited += Pause)
            await Task.Delay(Pause, clock, stopping);
    }

    /// <summary>One write's worth: the oldest ids of the backlog indexed under their names and taken off it, together.</summary>
    internal static int IndexBatch(SqliteConnection connection)
    {
        const string upTo = "(SELECT max(id) FROM (SELECT id FROM jobs_search_backlog ORDER BY id LIMIT @batch))";
        connection.Execute($"""
            INSERT INTO jobs_search (rowid, file_name_trigrams)
            SELECT jobs.id, jobs.file_name FROM jobs_search_backlog CROSS JOIN jobs ON jobs.id = jobs_search_backlog.id
            WHERE jobs_search_backlog.id <= {upTo}
            """, new { batch = BatchSize });
        return connection.Execute($"DELETE FROM jobs_search_backlog WHERE id <= {upTo}", new { batch = BatchSize });
    }
}
