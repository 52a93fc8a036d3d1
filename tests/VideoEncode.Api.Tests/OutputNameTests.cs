using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Every job names its output, and no two pending or running jobs share one.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class OutputNameTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public OutputNameTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    /// <summary>Many enqueues of one input at once (one source at several crfs, say): every one lands, each with its own name.</summary>
    [Fact]
    public async Task ConcurrentEnqueuesOfOneInputAllLandWithDistinctNames()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            client.PostAsJsonAsync("/api/jobs", new[] { QueueCalls.NewJob("source.mkv", crf: $"{18 + i}") }, WireJson.Options)));
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.Created, answer.StatusCode));
        var names = await Task.WhenAll(answers.Select(async answer => (await answer.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0].OutputName));
        string[] expected = ["source.mp4", .. Enumerable.Range(2, 19).Select(n => $"source ({n}).mp4")];
        Assert.Equal(expected.Order(), names.Order());
    }

    [Fact]
    public async Task InputsThatWouldShareAnOutputGetDistinctNumberedNames()
    {
        var first = await client.EnqueueAsync(QueueCalls.NewJob("shows/a.mkv"), QueueCalls.NewJob("shows/a.avi"));
        var later = await client.EnqueueAsync(QueueCalls.NewJob("shows/A.webm"), QueueCalls.NewJob("shows\\b.mov"), QueueCalls.NewJob("c"));

        Assert.Equal(["shows/a.mp4", "shows/a (2).mp4"], first.Select(job => job.OutputName));
        // Letter case does not tell outputs apart (Windows and macOS file systems ignore it).
        Assert.Equal(["shows/A (3).mp4", "shows/b.mp4", "c.mp4"], later.Select(job => job.OutputName));
        Assert.All(first.Concat(later), job => Assert.False(job.Overwrite));
        Assert.Equal("shows/a (2).mp4", (await client.GetFromJsonAsync<Job>($"/api/jobs/{first[1].Id}", WireJson.Options))!.OutputName);
    }

    [Fact]
    public async Task AnOutputIsFreeAgainOnceItsJobIsNoLongerLive()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("a.mkv")))[0];
        var claimed = await client.ClaimAsync();
        await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(claimed!.ClaimToken!), WireJson.Options);

        var again = (await client.EnqueueAsync(QueueCalls.NewJob("a.avi")))[0];
        Assert.Equal("a.mp4", again.OutputName);
    }

    [Fact]
    public async Task ARequestedOutputNameIsKeptAndOverwriteStored()
    {
        var job = (await Post("""{"file_name": "in/x.mkv", "crf": "23", "preset": "fast", "output_name": "out\\y.MP4", "overwrite": true}""",
            HttpStatusCode.Created))[0];
        Assert.Equal(("out/y.MP4", true), (job.OutputName, job.Overwrite));
    }

    [Fact]
    public async Task ARequestedOutputNameThatALiveJobHoldsAnswers409AndStoresNothing()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        var response = await client.PostAsync("/api/jobs", Json("""
            [{"file_name": "b.mkv", "crf": "23", "preset": "fast"},
             {"file_name": "c.mkv", "crf": "23", "preset": "fast", "output_name": "A.mp4"}]
            """));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, body.RootElement.GetProperty("index").GetInt32());
        Assert.Equal("output_name", body.RootElement.GetProperty("field").GetString());
        Assert.Contains("'A.mp4'", body.RootElement.GetProperty("error").GetString());
        Assert.Single(await client.ListAsync());
    }

    [Fact]
    public async Task AnOutputNameNamedTwiceInOneRequestAnswers409()
    {
        var response = await client.PostAsync("/api/jobs", Json("""
            [{"file_name": "b.mkv", "crf": "23", "preset": "fast", "output_name": "same.mp4"},
             {"file_name": "c.mkv", "crf": "23", "preset": "fast", "output_name": "same.mp4"}]
            """));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task RequestedNamesGoFirstAndDefaultsStepAroundThem()
    {
        var jobs = await Post("""
            [{"file_name": "a.mkv", "crf": "23", "preset": "fast"},
             {"file_name": "z.mkv", "crf": "23", "preset": "fast", "output_name": "a.mp4"}]
            """, HttpStatusCode.Created);
        Assert.Equal(["a (2).mp4", "a.mp4"], jobs.Select(job => job.OutputName));
    }

    [Theory]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "output_name": "../x.mp4"}""", "output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "output_name": "/abs.mp4"}""", "output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "output_name": "x.mkv"}""", "output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "output_name": 5}""", "output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": "23", "preset": "fast", "overwrite": "yes"}""", "overwrite")]
    public async Task ABadOutputNameOrOverwriteAnswers400(string body, string field)
    {
        var response = await client.PostAsync("/api/jobs", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(field, await QueueCalls.ErrorOf(response));
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task ResettingAJobWhoseOutputALiveJobNowHoldsAnswers409()
    {
        var old = (await client.EnqueueAsync(QueueCalls.NewJob("a.mkv")))[0];
        var claimed = await client.ClaimAsync();
        await client.PostAsJsonAsync($"/api/jobs/{old.Id}/finish", new ClaimProof(claimed!.ClaimToken!), WireJson.Options);
        var newer = (await client.EnqueueAsync(QueueCalls.NewJob("a.avi")))[0];
        Assert.Equal("a.mp4", newer.OutputName);

        var reset = await client.PostAsync($"/api/jobs/{old.Id}/reset", null);
        Assert.Equal(HttpStatusCode.Conflict, reset.StatusCode);
        Assert.Contains("same output_name 'a.mp4'", await QueueCalls.ErrorOf(reset));
        Assert.Equal(JobStatus.Finished, (await client.GetFromJsonAsync<Job>($"/api/jobs/{old.Id}", WireJson.Options))!.Status);

        await client.DeleteAsync($"/api/jobs/{newer.Id}");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/jobs/{old.Id}/reset", null)).StatusCode);
    }

    [Fact]
    public async Task ManySameNamedInputsInOneRequestAllGetTheirOwnOutput()
    {
        var jobs = await client.EnqueueAsync(Enumerable.Range(0, 500).Select(i => QueueCalls.NewJob($"clip.{i}")).ToArray());
        Assert.Equal(500, jobs.Select(job => job.OutputName!.ToLowerInvariant()).Distinct().Count());
        Assert.Equal("clip.mp4", jobs[0].OutputName);
        Assert.Equal("clip (500).mp4", jobs[^1].OutputName);
    }

    private async Task<Job[]> Post(string body, HttpStatusCode expected)
    {
        var response = await client.PostAsync("/api/jobs", Json(body));
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
