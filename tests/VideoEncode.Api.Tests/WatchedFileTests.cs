using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>POST /api/jobs with a "source" (a watched folder's file): each (path, size, mtime) becomes one job, on either store.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class WatchedFileTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public WatchedFileTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    private static object Watched(string path, long size = 1000, long mtime = 1_700_000_000_123, string? outputName = null) =>
        new { file_name = path, crf = "23", preset = "fast", output_name = outputName, source = new WatchedFile(path, size, mtime) };

    private Task<HttpResponseMessage> Post(params object[] jobs) => client.PostAsJsonAsync("/api/jobs", jobs, WireJson.Options);

    [Fact]
    public async Task TheSameFileAgainAnswers409WithItsJobAndStoresNothing()
    {
        var first = await client.EnqueueAsync(Watched("shows/ep1.mkv"));

        var again = await Post(Watched("shows/ep1.mkv"));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var body = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal(first[0].Id, body.RootElement.GetProperty("job_id").GetInt64());
        Assert.Equal("source", body.RootElement.GetProperty("field").GetString());
        Assert.Contains($"as job {first[0].Id}", body.RootElement.GetProperty("error").GetString());
        Assert.Single(await client.ListAsync());
    }

    [Fact]
    public async Task AFileWithANewSizeOrMtimeIsANewFile()
    {
        await client.EnqueueAsync(Watched("a.mkv", size: 10, mtime: 5));
        await client.EnqueueAsync(Watched("a.mkv", size: 11, mtime: 5));
        await client.EnqueueAsync(Watched("a.mkv", size: 11, mtime: 6));
        Assert.Equal(3, (await client.ListAsync()).Length);
    }

    [Fact]
    public async Task ConcurrentEnqueuesOfOneFileMakeOneJob()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Post(Watched("raced.mkv"))));

        var created = Assert.Single(answers, answer => answer.StatusCode == HttpStatusCode.Created);
        var job = Assert.Single((await created.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!);
        foreach (var refused in answers.Where(answer => answer != created))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal(job.Id, body.RootElement.GetProperty("job_id").GetInt64());
        }
        Assert.Single(await client.ListAsync());
    }

    [Fact]
    public async Task ARefusedRequestRemembersNoneOfItsFiles()
    {
        await client.EnqueueAsync(new { file_name = "x.mkv", crf = "23", preset = "fast", output_name = "taken.mp4" });

        var clash = await Post(Watched("one.mkv"), Watched("two.mkv", outputName: "taken.mp4"));
        Assert.Equal(HttpStatusCode.Conflict, clash.StatusCode);
        Assert.Equal("output_name", JsonDocument.Parse(await clash.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());

        Assert.Equal(2, (await client.EnqueueAsync(Watched("one.mkv"), Watched("two.mkv"))).Length);
    }

    [Fact]
    public async Task ADeletedJobsFileIsStillRemembered()
    {
        var job = (await client.EnqueueAsync(Watched("gone.mkv")))[0];
        (await client.DeleteAsync($"/api/jobs/{job.Id}")).EnsureSuccessStatusCode();

        var again = await Post(Watched("gone.mkv"));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task InABulkRequestTheFileEnqueuedBeforeIsNamedByIndex()
    {
        await client.EnqueueAsync(Watched("b.mkv"));

        var answer = await Post(Watched("a.mkv"), Watched("b.mkv"));

        Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
        using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(1, body.RootElement.GetProperty("index").GetInt32());
        Assert.Single(await client.ListAsync());
    }

    [Theory]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": "a.mkv"}""", "source must be an object")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": {"path": "a.mkv", "size": -1, "mtime": 1}}""", "source must be an object")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": {"path": "a.mkv", "size": 1}}""", "source must be an object")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": {"path": "../a.mkv", "size": 1, "mtime": 1}}""", "source path must not contain '..'")]
    [InlineData("""[{"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": {"path": "a.mkv", "size": 1, "mtime": 1}}, {"file_name": "a.mkv", "crf": "23", "preset": "fast", "source": {"path": "a.mkv", "size": 1, "mtime": 1}}]""",
        "Job at index 1: source names the same file as the job at index 0")]
    public async Task ABadSourceIs400(string json, string message)
    {
        var answer = await client.PostAsync("/api/jobs", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(message, await QueueCalls.ErrorOf(answer));
        Assert.Empty(await client.ListAsync());
    }
}
