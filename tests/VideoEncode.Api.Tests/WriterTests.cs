using VideoEncode.Api.Jobs.Drivers;
using System.Net;
using VideoEncode.Api.Database.Sqlite;
using VideoEncode.Api.Jobs;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>The single writer under pressure: a bounded queue, dropped abandoned writes, and a loop that outlives any failure.</summary>
// The single SQLite writer; PostgreSQL takes concurrent writes itself.
[Trait("Store", TestStore.RunOnce)]
public sealed class WriterTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    // Upkeep only when a test says so: its writes would take the queue's two places.
    private readonly QueueFactory factory = new(settings: new Dictionary<string, string?> { ["MaxQueuedWrites"] = "2", ["LeaseSweepSeconds"] = "3600" });
    private readonly SqliteWriter writer;
    private readonly ManualResetEventSlim hold = new();

    public WriterTests() => writer = factory.GetService<SqliteWriter>();

    // The search indexer's start-up write would take one too, at a moment of its own: it goes first. (It
    // writes again only after an enqueue.)
    public Task InitializeAsync()
    {
        var indexer = factory.GetService<SqliteSearchIndexer>();
        return Eventually.TrueAsync(() => indexer.RoundsDone >= 1, () => "the search indexer's start-up round did not end");
    }

    public Task DisposeAsync()
    {
        hold.Set();
        factory.Dispose();
        hold.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Occupies the writer until <see cref="hold"/> is set; answers once it is running.</summary>
    private async Task<Task<bool>> HoldTheWriterAsync()
    {
        var running = new TaskCompletionSource();
        var held = writer.WriteAsync(_ =>
        {
            running.SetResult();
            return hold.Wait(Patience);
        });
        await running.Task.WaitAsync(Patience);
        return held;
    }

    [Fact]
    public async Task AFullQueueRefusesTheNextWriteWith503AndRetryAfterAndStoresNothing()
    {
        var client = factory.CreateApiClient();
        var held = await HoldTheWriterAsync();
        var queued = new[] { writer.WriteAsync(_ => 1), writer.WriteAsync(_ => 2) };

        Assert.Throws<WriterBusyException>(() => { _ = writer.WriteAsync(_ => 3); });
        var refused = await client.PostAsync("/api/jobs", System.Net.Http.Json.JsonContent.Create(QueueCalls.NewJob()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("busy", await QueueCalls.ErrorOf(refused));

        hold.Set();
        await held;
        var results = await Task.WhenAll(queued);
        Assert.Equal([1, 2], results);
        Assert.Empty(await client.ListAsync());
        Assert.Single(await client.EnqueueAsync(QueueCalls.NewJob()));    // and the host takes work again
    }

    [Fact]
    public async Task AWriteWhoseCallerGaveUpBeforeItsTurnIsNotRun()
    {
        var held = await HoldTheWriterAsync();
        using var gaveUp = new CancellationTokenSource();
        var ran = false;
        var abandoned = writer.WriteAsync(_ => ran = true, gaveUp.Token);
        gaveUp.Cancel();
        hold.Set();
        await held;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.False(ran);
    }

    [Fact]
    public async Task TheWriterCarriesOnAfterAWriteThatBreaksItsTransaction()
    {
        // A write that ends the writer's transaction under its feet: its batch fails, the loop does not.
        await Assert.ThrowsAnyAsync<Exception>(() => writer.WriteAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "COMMIT";
            return command.ExecuteNonQuery();
        }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync<int>(_ => throw new InvalidOperationException("boom")));

        var client = factory.CreateApiClient();
        var job = Assert.Single(await client.EnqueueAsync(QueueCalls.NewJob()));
        Assert.Equal(JobStatus.Pending, job.Status);
    }
}
