using System.Text;
using System.Text.Json;
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
    TimeProvider clock, ILogger<SharedChangeFeed> logger) : BackgroundService
{
    private const string ChannelName = "videoencode_changes";
    private const int BatchSize = 1000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    // A notified transaction is not readable until every older one has ended, usually within milliseconds.
    private static readonly TimeSpan HeldBackRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HeldBackWarning = TimeSpan.FromSeconds(30);

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
            froms = notices.Select(n => JobChange.SpellFrom(n.From)).ToArray(),
            tos = notices.Select(n => JobChange.SpellTo(n.To)).ToArray(),
            causes = notices.Select(n => n.Cause.ToString()).ToArray(),
        });
    }

    /// <summary>
    /// Forgets changes older than ten minutes that every host has been able to read (hosts read them
    /// within moments) — never one still held back by a transaction that has not ended.
    /// </summary>
    public static Task ForgetOldAsync(NpgsqlConnection connection) =>
        connection.ExecuteAsync("""
            DELETE FROM job_events
            WHERE created_at < now() - interval '10 minutes' AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
            """);

    /// <summary>Fills the replay window before the host serves its first request, so no stream sees that history as new.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LoadRecentAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The window starts empty: resuming clients are told to reload, nothing worse.
            logger.LogWarning(e, "Could not read the recent changes; the event stream starts without them.");
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Yield();
        var listening = ListenAsync(stopping);
        var notifying = NotifyAsync(stopping);
        var retry = HeldBackRetry;
        var failing = false;
        DateTimeOffset? heldBackSince = null;
        while (!stopping.IsCancellationRequested)
        {
            var heldBack = false;
            try
            {
                heldBack = await ReadNewAsync(stopping);
                if (failing) logger.LogInformation("Reading the hosts' changes works again.");
                failing = false;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Said once per outage, not every poll.
                if (!failing) logger.LogWarning(e, "Reading the hosts' changes failed; trying again every {Interval}.", PollInterval);
                failing = true;
            }
            heldBackSince = heldBack ? heldBackSince ?? clock.GetUtcNow() : null;
            if (heldBackSince is { } since && clock.GetUtcNow() - since > HeldBackWarning)
            {
                logger.LogWarning("Changes have been held back for {Duration} by a transaction that has not ended on the PostgreSQL server " +
                                  "(see pg_stat_activity): event streams, counters and cross-host wake-ups wait for it.", HeldBackWarning);
                heldBackSince = clock.GetUtcNow();
            }
            // Held back by a transaction still running: look again soon, less often the longer it runs.
            using var pause = new CancellationTokenSource(heldBack ? retry : PollInterval, clock);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping, pause.Token);
            retry = heldBack ? TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, PollInterval.Ticks)) : HeldBackRetry;
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

    /// <summary>The id of the job a stored change is about: its data's top-level "id" (a job's JSON, or a deleted job's {id, status}).</summary>
    private static long JobIdOf(string data)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(data));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId) return reader.GetInt64();
            reader.Skip();
        }
        throw new FormatException("A stored change's data has no job id.");
    }

    /// <summary>The replay window of the event stream, filled from the newest changes, so a client resumes on a host that just started.</summary>
    private async Task LoadRecentAsync(CancellationToken cancel)
    {
        await using var connection = await database.OpenAsync(cancel);
        var recent = (await connection.QueryAsync<StoredChange>($"""
            SELECT * FROM (
                SELECT id, tx, type, data, from_status, to_status, cause, origin FROM job_events
                WHERE tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint AND cause <> '{nameof(ChangeCause.Heartbeat)}'
                ORDER BY tx DESC, id DESC LIMIT {JobEvents.ReplayWindow}) AS newest
            ORDER BY tx, id
            """)).AsList();
        foreach (var change in recent)
            if (Notice(change) is { } notice) events.Publish(change.Id, notice);
        if (recent.Count > 0) cursor = (recent[^1].Tx, recent[^1].Id);
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
            {
                // Past each change as it is announced: a failure further on must not announce it twice.
                cursor = (change.Tx, change.Id);
                if (Notice(change) is { } notice) sink.Announce(change.Id, JobIdOf(change.Data), notice, fromOtherHost: change.Origin != host.Id);
            }
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
                await Task.Delay(ReconnectDelay, clock, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
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
                await Task.Delay(ReconnectDelay, clock, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
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
    }

    /// <summary>The change as a notice; null (and a warning) for one this host cannot read — written by a newer host during an upgrade.</summary>
    private ChangeNotice? Notice(StoredChange change)
    {
        if (Enum.TryParse<ChangeCause>(change.Cause, out var cause))
            return new ChangeNotice(change.Type, change.Data, JobChange.ReadStored(change.FromStatus), JobChange.ReadStored(change.ToStatus), cause);
        logger.LogWarning("Change {Id} has a cause this host does not know ({Cause}); it is left out of this host's stream and counters.",
            change.Id, change.Cause);
        return null;
    }
}
