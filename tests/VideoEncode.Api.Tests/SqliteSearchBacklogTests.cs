using VideoEncode.Api.Jobs.Drivers;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Jobs;
using VideoEncode.Testing;

namespace VideoEncode.Api.Tests;

/// <summary>
/// SQLite's search index filled in the background (schema step 12): a job waits in jobs_search_backlog
/// until the indexer moves it, and searches stay exact meanwhile and after, through deletes and renames
/// of jobs on either side, on a queue file brought forward from step 11.
/// </summary>
[Trait("Store", TestStore.RunOnce)]
public sealed class SqliteSearchBacklogTests : IDisposable
{
    private readonly string path = TestStore.NewSqlitePath();

    public void Dispose() => TestStore.Delete(path);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private long[] Backlog()
    {
        using var connection = Open();
        return connection.Query<long>("SELECT id FROM jobs_search_backlog ORDER BY id").ToArray();
    }

    /// <summary>Throws (SQLITE_CORRUPT_VTAB) when the index is damaged, e.g. by forgetting a row it never held.</summary>
    private void CheckIndexIntegrity()
    {
        using var connection = Open();
        connection.Execute("INSERT INTO jobs_search (jobs_search) VALUES ('integrity-check')");
    }

    private long HandInsert(SqliteConnection connection, string fileName) => connection.ExecuteScalar<long>(
        "INSERT INTO jobs (file_name, crf, preset, created_at, output_name) VALUES (@fileName, '23', 'medium', 1, @output) RETURNING id",
        new { fileName, output = Guid.NewGuid().ToString("N") + ".mp4" });

    [Fact]
    public async Task SearchIsExactBeforeAndAfterIndexingThroughDeletesAndRenames()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        long[] indexed;
        using (var connection = Open())
        {
            foreach (var step in VideoEncode.Api.Database.SchemaSteps.Read("schema.sql").Where(step => step.Version <= 11))
                connection.Execute(step.Sql);
            connection.Execute("PRAGMA user_version = 11");
            // Indexed at once by step 11's trigger.
            indexed = [HandInsert(connection, "indexed/Needle keep"), HandInsert(connection, "indexed/needle gone"), HandInsert(connection, "indexed/needle renamed")];
        }

        using var factory = new QueueFactory(path);
        var client = factory.CreateApiClient();
        async Task<string[]> NamesAsync(string q, string paging = "") => (await client.ListAsync("q=" + Uri.EscapeDataString(q) + paging)).Select(job => job.FileName).ToArray();
        Assert.Equal(["indexed/needle renamed", "indexed/needle gone", "indexed/Needle keep"], await NamesAsync("NEEDLE"));
        Assert.Empty(Backlog());

        // Hand edits while the host runs: the new jobs wait in the backlog, as nothing woke the indexer
        // (once its start-up round, which runs at a moment of its own, is done).
        var indexer = factory.GetService<SqliteSearchIndexer>();
        await Eventually.TrueAsync(() => indexer.RoundsDone >= 1, () => "the indexer's start-up round did not end");
        long[] waiting;
        using (var connection = Open())
            waiting = [HandInsert(connection, "waiting/needle keep"), HandInsert(connection, "waiting/needle gone"), HandInsert(connection, "waiting/needle renamed")];
        Assert.Equal(waiting, Backlog());
        Assert.Equal(["waiting/needle renamed", "waiting/needle gone", "waiting/needle keep", "indexed/needle renamed", "indexed/needle gone", "indexed/Needle keep"],
            await NamesAsync("needle"));
        // Pages cut across the index and the backlog alike.
        Assert.Equal(["indexed/needle renamed", "waiting/needle keep"], await NamesAsync("needle", "&sort=oldest&limit=2&offset=2"));
        Assert.Equal(["waiting/needle keep", "indexed/needle renamed"], await NamesAsync("needle", $"&limit=2&before_id={waiting[1]}"));

        // Deleted and renamed, one of each indexed and one of each still waiting.
        foreach (var id in new[] { indexed[1], waiting[1] })
            Assert.True((await client.DeleteAsync($"/api/jobs/{id}")).IsSuccessStatusCode);
        using (var connection = Open())
            connection.Execute("UPDATE jobs SET file_name = replace(file_name, 'needle renamed', 'pin renamed') WHERE id IN @ids",
                new { ids = new[] { indexed[2], waiting[2] } });
        Assert.Equal([waiting[0], waiting[2]], Backlog());

        async Task AssertFoundAsync()
        {
            Assert.Equal(["waiting/needle keep", "indexed/Needle keep"], await NamesAsync("needle"));
            Assert.Equal(["waiting/pin renamed", "indexed/pin renamed"], await NamesAsync("pin"));
            Assert.Empty(await NamesAsync("gone"));
            CheckIndexIntegrity();
        }
        await AssertFoundAsync();

        // An enqueue wakes the indexer, which empties the backlog: the same answers now all come from the index.
        await client.EnqueueAsync(QueueCalls.NewJob("fresh/other.mkv"));
        await Eventually.TrueAsync(() => Backlog().Length == 0, () => string.Join(",", Backlog()));
        await AssertFoundAsync();
        Assert.Equal(["fresh/other.mkv"], await NamesAsync("other"));
    }
}
