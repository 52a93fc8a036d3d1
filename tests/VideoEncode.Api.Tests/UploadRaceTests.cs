using System.Net;
using Dapper;
using Npgsql;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Uploads;
using VideoEncode.Contracts;
using static VideoEncode.Testing.TusCalls;

namespace VideoEncode.Api.Tests;

/// <summary>
/// PostgreSQL only: an enqueue that makes a job of an upload, holding the upload's row while its transaction is open
/// (READ COMMITTED: a statement that waits on that row sees it again only through its own WHERE), against the sweep
/// and a termination that started meanwhile. The enqueue is played by hand, its transaction held open until the
/// other side is seen waiting on the row, so the interleaving is the one that lost uploads, every time.
/// </summary>
[Trait("Store", TestStore.RunOnce)]
public sealed class UploadRaceTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory host;
    private readonly HttpClient client;

    public UploadRaceTests()
    {
        host = new QueueFactory(TestStore.NewPostgresDatabase(), new Dictionary<string, string?>
        {
            ["LeaseSweepSeconds"] = "3600",
            ["LeaderLeaseSeconds"] = "7200",
            ["MediaReserveBytes"] = "0",
        }, clock);
        client = host.CreateApiClient();
    }

    public void Dispose()
    {
        host.Dispose();
        TestStore.Delete(host.Database);
    }

    [Fact]
    public async Task TheSweepDoesNotDeleteAnUploadAJobWasMadeOfWhileItWaited()
    {
        var (upload, job) = await UnusedUploadAndJobAsync();
        clock.Advance(TimeSpan.FromHours(25)); // completed and kept long enough ago: the sweep's to take
        var now = clock.GetUtcNow().ToUnixTimeSeconds();

        var swept = await WhileAnEnqueueHoldsAsync(upload, job,
            () => host.GetService<UploadStore>().DeleteUnreferencedAsync(now, now - 24 * 3600, 500));

        Assert.Empty(swept);
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(upload)).StatusCode);
    }

    [Fact]
    public async Task ATerminationThatWaitedOnAnEnqueueFindsTheJobAndKeepsTheUpload()
    {
        var (upload, job) = await UnusedUploadAndJobAsync();

        var terminated = await WhileAnEnqueueHoldsAsync(upload, job,
            () => client.SendAsync(Request(HttpMethod.Delete, $"{Tus.UploadsPath}/{upload}")));

        Assert.Equal(HttpStatusCode.Conflict, terminated.StatusCode);
        Assert.Contains($"Job {job} refers to upload {upload}", await QueueCalls.ErrorOf(terminated));
        Assert.Equal(HttpStatusCode.OK, (await client.HeadAsync(upload)).StatusCode);
    }

    private async Task<(string Upload, long Job)> UnusedUploadAndJobAsync()
    {
        var upload = await client.UploadAsync(RandomBytes(10));
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("shared/a.mkv")))[0].Id;
        return (upload, job);
    }

    /// <summary>
    /// Opens the enqueue's transaction (the upload's row taken up as <see cref="StoredInputs"/> does, the job made to
    /// refer to it), runs <paramref name="other"/>, commits once that waits on the row, and answers what it did.
    /// </summary>
    private async Task<T> WhileAnEnqueueHoldsAsync<T>(string upload, long job, Func<Task<T>> other)
    {
        await using var connection = new NpgsqlConnection(host.Database);
        await connection.OpenAsync();
        await using var enqueue = await connection.BeginTransactionAsync();
        var taken = await connection.QueryAsync<StoredInput>(StoredInputs.Lookup("id = ANY(@ids)"),
            new { ids = new[] { upload }, keepuntil = clock.GetUtcNow().ToUnixTimeSeconds() + 24 * 3600 }, enqueue);
        Assert.Single(taken);
        await connection.ExecuteAsync("UPDATE jobs SET input_upload = @upload WHERE id = @job", new { upload, job }, enqueue);

        var running = other();
        await using (var watcher = new NpgsqlConnection(host.Database))
        {
            await watcher.OpenAsync();
            await Eventually.TrueAsync(async () => running.IsCompleted || await watcher.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0,
                () => "nothing waited on the upload's row", TimeSpan.FromSeconds(30));
        }
        Assert.False(running.IsCompleted, "it did not wait for the enqueue");
        await enqueue.CommitAsync();
        return await running;
    }
}
