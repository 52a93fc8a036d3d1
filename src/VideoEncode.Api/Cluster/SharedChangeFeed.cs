using System.Threading.Channels;
using Dapper;
using Npgsql;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Api.Events;

namespace VideoEncode.Api.Cluster;

/// <summary>
/// Every host's changes, heard by every host sharing a PostgreSQL queue. Each write stores its
/// changes in job_events in its own transaction (<see cref="RecordAsync"/>) and notifies the other
/// hosts on commit; each host reads them back in one order and announces them
/// (<see cref="JobChangeSink.Announce"/>): the same events under the same ids on every host's
/// stream, the same counters, and wake-ups for its waiting claims when another host made a job claimable.
///
/// Order without gaps: ids are handed out when a change is written, not when it commits, so a
/// reader going by id alone could pass over an id whose transaction commits a moment later. The
/// feed reads only changes of transactions older than every transaction still running
/// (pg_snapshot_xmin), in (transaction, id) order — nothing can appear behind that point any more.
///
/// LISTEN/NOTIFY is only a hint that something is there: a notification can be lost while the
/// listening connection reconnects, so the feed also reads every <see cref="PollInterval"/>. The
/// hint is sent after the commit, outside the write's transaction, by one loop per host that folds
/// the commits of a busy moment into one notification: PostgreSQL serialises the commits of
/// transactions that NOTIFY (a queue-wide lock held through the commit's flush), which would
/// otherwise cap every host's writes at one fsync at a time.
/// </summary>
public sealed class SharedChangeFeed(PostgresDatabase database, JobChangeSink sink, JobEvents events, HostIdentity host,
    ILogger<SharedChangeFeed> logger) : BackgroundService
{
    private const string ChannelName = "videoencode_changes";
    private const int BatchSize = 1000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    // A notified transaction is not readable until every older one has ended, usually within milliseconds.
    private static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    // Each holds at most one pending signal: many signals before the loop gets to them are one.
    private readonly Channel<bool> nudges = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> commits = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private (long Tx, long Id) cursor;

    /// <summary>A write that recorded changes has committed: the hosts get a notification soon.</summary>
    public void Committed() => commits.Writer.TryWrite(true);

    /// <summary>Stores a write's changes for every host, in the write's own transaction.</summary>
    public static async Task RecordAsync(NpgsqlConnection connection, IReadOnlyList<JobChange> changes, Guid origin)
    {
        if (changes.Count == 0) return;
        var notices = changes.Select(ChangeNotice.Of).ToArray();
        await connection.ExecuteAsync("""
            INSERT INTO job_events (type, data, from_status, to_status, cause, origin)
            SELECT type, data, from_status, to_status, cause, @origin
            FROM unnest(@types, @data, @froms, @tos, @causes) WITH ORDINALITY AS e(type, data, from_status, to_status, cause, position)
            ORDER BY position
            """, new
        {
            origin,
            types = notices.Select(n => n.Type).ToArray(),
            data = notices.Select(n => n.Data).ToArray(),
            froms = notices.Select(n => n.From).ToArray(),
            tos = notices.Select(n => n.To).ToArray(),
            causes = notices.Select(n => n.Cause.ToString()).ToArray(),
        });
    }

    /// <summary>Forgets changes older than every host can still need (hosts read them within moments; ten minutes is ample).</summary>
    public static Task ForgetOldAsync(NpgsqlConnection connection) =>
        connection.ExecuteAsync("DELETE FROM job_events WHERE created_at < now() - interval '10 minutes'");

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        await LoadRecentAsync(stopping);
        var listening = ListenAsync(stopping);
        var notifying = NotifyAsync(stopping);
        var retry = HeldBackRetry;
        while (!stopping.IsCancellationRequested)
        {
            var heldBack = false;
            try
            {
                heldBack = await ReadNewAsync(stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                logger.LogWarning(e, "Reading other hosts' changes failed; trying again shortly.");
            }
            // Held back by a transaction still running: look again soon, less often the longer it runs.
            retry = heldBack ? TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, PollInterval.Ticks)) : HeldBackRetry;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            wait.CancelAfter(heldBack ? retry : PollInterval);
            try
            {
                await nudges.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // The poll interval passed (or the host is stopping: the loop condition ends it).
            }
        }
        await Task.WhenAll(listening, notifying);
    }

    /// <summary>The replay window of the event stream, filled from the newest changes, so a client resumes on a host that just started.</summary>
    private async Task LoadRecentAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenAsync(stopping);
                var recent = (await connection.QueryAsync<StoredChange>($"""
                    SELECT * FROM (
                        SELECT id, tx, type, data, from_status, to_status, cause, origin FROM job_events
                        WHERE tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                        ORDER BY tx DESC, id DESC LIMIT {JobEvents.ReplayWindow}) AS newest
                    ORDER BY tx, id
                    """)).AsList();
                foreach (var change in recent) events.Publish(change.Id, change.Notice);
                if (recent.Count > 0) cursor = (recent[^1].Tx, recent[^1].Id);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                logger.LogWarning(e, "Reading the recent changes failed; trying again in {Delay}.", ReconnectDelay);
                await Task.Delay(ReconnectDelay, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Announces the changes committed since the last read. True when some change is still held back by an older transaction.</summary>
    private async Task<bool> ReadNewAsync(CancellationToken stopping)
    {
        await using var connection = await database.OpenAsync(stopping);
        while (true)
        {
            var horizon = await connection.QuerySingleAsync<long>("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
            var batch = (await connection.QueryAsync<StoredChange>($"""
                SELECT id, tx, type, data, from_status, to_status, cause, origin FROM job_events
                WHERE tx < @horizon AND (tx, id) > (@Tx, @Id)
                ORDER BY tx, id LIMIT {BatchSize}
                """, new { horizon, cursor.Tx, cursor.Id })).AsList();
            foreach (var change in batch)
                sink.Announce(change.Id, change.Notice, wake: change.Origin != host.Id);
            if (batch.Count > 0) cursor = (batch[^1].Tx, batch[^1].Id);
            if (batch.Count < BatchSize)
                return await connection.QuerySingleAsync<bool>("SELECT EXISTS (SELECT 1 FROM job_events WHERE tx >= @horizon)", new { horizon });
        }
    }

    /// <summary>Keeps one connection listening for the hosts' notifications, reconnecting when it drops; each one nudges the reader.</summary>
    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenAsync(stopping);
                connection.Notification += (_, _) => nudges.Writer.TryWrite(true);
                await connection.ExecuteAsync($"LISTEN {ChannelName}");
                nudges.Writer.TryWrite(true); // catch up on whatever was missed while not listening
                while (true) await connection.WaitAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listening for other hosts' changes failed; reconnecting in {Delay} (changes are polled meanwhile).", ReconnectDelay);
                await Task.Delay(ReconnectDelay, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Sends one notification for the commits since the last one, outside any write's transaction.</summary>
    private async Task NotifyAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await commits.Reader.ReadAsync(stopping);
                await using var connection = await database.OpenAsync(stopping);
                await connection.ExecuteAsync($"NOTIFY {ChannelName}");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The other hosts' polling picks the changes up meanwhile.
                logger.LogWarning(e, "Notifying the other hosts failed; they will find the changes when they next poll.");
                await Task.Delay(ReconnectDelay, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private sealed class StoredChange
    {
        public long Id { get; init; }
        public long Tx { get; init; }
        public string Type { get; init; } = "";
        public string Data { get; init; } = "";
        public string FromStatus { get; init; } = "";
        public string ToStatus { get; init; } = "";
        public string Cause { get; init; } = "";
        public Guid Origin { get; init; }

        public ChangeNotice Notice => new(Type, Data, FromStatus, ToStatus, Enum.Parse<ChangeCause>(Cause));
    }
}
