using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
public sealed class FailTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public FailTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task AFailedJobKeepsItsReasonAndLogTailAndIsListedAsFailed()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();

        var response = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail",
            new FailureReport("ffmpeg exited with code 1", "moov atom not found", claimed!.ClaimToken), WireJson.Options);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var failed = await response.Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(JobStatus.Failed, failed!.Status);
        Assert.NotNull(failed.Finished);
        Assert.Equal("ffmpeg exited with code 1", failed.Error);
        Assert.Equal("moov atom not found", failed.LogTail);
        Assert.Equal([job.Id], (await client.ListAsync("status=failed")).Select(j => j.Id));
        Assert.Empty(await client.ListAsync("status=finished"));
        Assert.Contains(factory.LogLines, line => line.Contains($"Job {job.Id}: in_progress -> failed via fail"));
    }

    [Fact]
    public async Task OnlyTheLast4KbOfTheLogTailIsKept()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();
        var log = new string('a', 10_000) + "the end";
        var failed = await (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport("boom", log, claimed!.ClaimToken), WireJson.Options))
            .Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(FailureReport.MaxLogTailChars, failed!.LogTail!.Length);
        Assert.EndsWith("the end", failed.LogTail);
    }

    [Fact]
    public async Task FailingAJobThatIsNotRunningAnswers409OrAnUnknownOne404AndChangesNothing()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var response = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport("boom", ClaimToken: "not-a-claim"), WireJson.Options);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("no longer the job's current claim", await QueueCalls.ErrorOf(response));
        var unknown = await client.PostAsJsonAsync("/api/jobs/999/fail", new FailureReport("boom", ClaimToken: "not-a-claim"), WireJson.Options);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Job not found or not started", await QueueCalls.ErrorOf(unknown));
        Assert.Equal(JobStatus.Pending, (await client.ListAsync())[0].Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"error": ""}""")]
    [InlineData("""{"error": 5}""")]
    [InlineData("""{"error": "x", "log_tail": 7}""")]
    [InlineData("""{"error": "x", "claim_token": null}""")]
    [InlineData("[]")]
    public async Task ABadFailureReportAnswers400AndTheJobKeepsRunning(string body)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.ClaimAsync();
        var response = await client.PostAsync($"/api/jobs/{job.Id}/fail", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(JobStatus.InProgress, (await client.ListAsync())[0].Status);
    }

    [Fact]
    public async Task ResetGivesAFailedJobAFreshStart()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();
        await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport("boom", "tail", claimed!.ClaimToken), WireJson.Options);
        var reset = await (await client.PostAsync($"/api/jobs/{job.Id}/reset", null)).Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(job, reset);
    }
}
