using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Database.Sqlite;
using VideoEncode.Api.Changes;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// Writes the deliveries of a job write into the outbox (webhook_deliveries), inside that write's
/// transaction (<see cref="ChangeJournal"/>): a change is committed with its deliveries or not at all,
/// so a crash or restart loses none. The subscriptions are read in the same transaction rather than
/// cached, so a webhook made on one host of a shared PostgreSQL store is served for changes made on
/// another from its commit on. A write that moves no status asks nothing; one that does asks one small
/// query, and writes only when some webhook subscribes. On SQLite that query is kept compiled on the
/// writer's connection: every claim and finish asks it, and compiling it each time cost more than running it.
/// </summary>
public sealed class WebhookOutbox(WebhookSignal signal) : IJobChangeRecorder
{
    /// <summary>Rows per INSERT: 6 parameters each stays far below either store's limit on parameters.</summary>
    private const int RowsPerInsert = 500;

    private sealed record Subscriber
    {
        public long Id { get; init; }
        public string Events { get; init; } = "";
    }

    private const string SubscribersSql = "SELECT id, events FROM webhooks";

    private sealed record Row(long WebhookId, string Event, long JobId, string Body);

    public async Task RecordAsync(DbConnection connection, IReadOnlyList<JobChange> changes, string? actor, long now)
    {
        List<(JobChange Change, string Event)>? events = null;
        foreach (var change in changes)
            if (WebhookEvents.Of(change) is { } name) (events ??= []).Add((change, name));
        if (events is null) return;
        var subscribers = connection is SqliteConnection sqlite
            ? sqlite.QueryPrepared<Subscriber>(SubscribersSql)
            : (await connection.QueryAsync<Subscriber>(SubscribersSql)).AsList();
        if (subscribers.Count == 0) return;

        var rows = new List<Row>();
        foreach (var (change, name) in events)
        {
            // One body per event, the same for every subscriber: its id lets a receiver of several webhooks tell repeats.
            string? body = null;
            foreach (var subscriber in subscribers)
                if (WebhookEvents.Includes(subscriber.Events, name))
                    rows.Add(new Row(subscriber.Id, name, change.Job.Id, body ??= Body(change, name, now)));
        }
        if (rows.Count == 0) return;
        foreach (var chunk in rows.Chunk(RowsPerInsert))
            await InsertAsync(connection, chunk, now);
        signal.Enqueued();
    }

    private static Task InsertAsync(DbConnection connection, Row[] rows, long now)
    {
        var sql = new StringBuilder("INSERT INTO webhook_deliveries (webhook_id, event, job_id, body, created_at, next_attempt_at) VALUES ");
        var parameters = new DynamicParameters(new { now });
        for (var i = 0; i < rows.Length; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append($"(@w{i}, @e{i}, @j{i}, @b{i}, @now, @now)");
            parameters.Add($"w{i}", rows[i].WebhookId);
            parameters.Add($"e{i}", rows[i].Event);
            parameters.Add($"j{i}", rows[i].JobId);
            parameters.Add($"b{i}", rows[i].Body);
        }
        return connection.ExecuteAsync(sql.ToString(), parameters);
    }

    /// <summary>
    /// {"id": a unique id, "type": "job.finished", "created_at": unix seconds, "data": the job as the events
    /// stream shows it (never its claim token)}. Fixed now: a retry a day later sends what happened then.
    /// </summary>
    private static string Body(JobChange change, string name, long now)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", "evt_" + Guid.NewGuid().ToString("N"));
            json.WriteString("type", name);
            json.WriteNumber("created_at", now);
            json.WritePropertyName("data");
            json.WriteRawValue(ChangeNotice.Of(change).Data);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
