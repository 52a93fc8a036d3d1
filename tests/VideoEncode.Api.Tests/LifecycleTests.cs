using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Claim, finish, get, delete and reset, with the original service's exact answers.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class LifecycleTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public LifecycleTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task ClaimOnAnEmptyQueueAnswers404NoJobsAvailable()
    {
        foreach (var response in new[] { await client.GetAsync("/api/jobs/claim"), await client.PostAsync("/api/jobs/claim", null) })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("""{"error":"No jobs available"}""", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task ClaimsHandOutTheOldestJobFirstAndStampStarted()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("first.mp4"), QueueCalls.NewJob("second.mp4"));

        var viaGet = await client.GetFromJsonAsync<Job>("/api/jobs/claim", WireJson.Options);
        var viaPost = await client.ClaimAsync();

        Assert.Equal(jobs[0].Id, viaGet!.Id);
        Assert.Equal(jobs[1].Id, viaPost!.Id);
        Assert.Equal(JobStatus.InProgress, viaGet.Status);
        Assert.NotNull(viaGet.Started);
        Assert.Null(viaGet.Finished);
        Assert.Null(await client.ClaimAsync());
    }

    [Fact]
    public async Task FinishStampsFinishedAndIsSafeToRepeat()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.ClaimAsync();

        var first = await client.PostAsync($"/api/jobs/{job.Id}/finish", null);
        var again = await client.PostAsync($"/api/jobs/{job.Id}/finish", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var finished = await first.Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(JobStatus.Finished, finished!.Status);
        Assert.NotNull(finished.Finished);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(finished, await again.Content.ReadFromJsonAsync<Job>(WireJson.Options));
        Assert.Single(factory.LogLines, line => line.Contains($"Job {job.Id}: in_progress -> finished via finish"));
    }

    [Fact]
    public async Task FinishingAnUnknownOrUnstartedJobAnswers404()
    {
        var pending = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        foreach (var id in new[] { pending.Id, 999 })
        {
            var response = await client.PostAsync($"/api/jobs/{id}/finish", null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("""{"error":"Job not found or not started"}""", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(JobStatus.Pending, (await client.ListAsync())[0].Status);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999")]
    public async Task ANonNumericIdAnswers400InvalidJobId(string id)
    {
        var responses = new[]
        {
            await client.PostAsync($"/api/jobs/{id}/finish", null),
            await client.PostAsync($"/api/jobs/{id}/reset", null),
            await client.DeleteAsync($"/api/jobs/{id}"),
            await client.GetAsync($"/api/jobs/{id}"),
        };
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("""{"error":"Invalid job ID"}""", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task GetByIdAnswersTheJobOr404()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        Assert.Equal(job, await client.GetFromJsonAsync<Job>($"/api/jobs/{job.Id}", WireJson.Options));
        var missing = await client.GetAsync("/api/jobs/424242");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("""{"error":"Job not found"}""", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DeleteRemovesTheJobOnceAndThenAnswers404()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var deleted = await client.DeleteAsync($"/api/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("""{"message":"Job deleted successfully"}""", await deleted.Content.ReadAsStringAsync());

        var again = await client.DeleteAsync($"/api/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("""{"error":"Job not found"}""", await again.Content.ReadAsStringAsync());
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task IdsAreNeverReusedAfterTheNewestJobIsDeleted()
    {
        var first = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.DeleteAsync($"/api/jobs/{first.Id}");
        var second = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        Assert.True(second.Id > first.Id);
    }

    [Fact]
    public async Task ResetClearsAFinishedJobSoItCanBeClaimedAgain()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.ClaimAsync();
        await client.PostAsync($"/api/jobs/{job.Id}/finish", null);

        var response = await client.PostAsync($"/api/jobs/{job.Id}/reset", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reset = await response.Content.ReadFromJsonAsync<Job>(WireJson.Options);
        Assert.Equal(job, reset);
        Assert.Equal(job.Id, (await client.ClaimAsync())!.Id);
        Assert.Contains(factory.LogLines, line => line.Contains($"Job {job.Id}: finished -> pending via reset"));

        var missing = await client.PostAsync("/api/jobs/777/reset", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("""{"error":"Job not found"}""", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EveryStateChangeIsLoggedWithItsRoute()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.ClaimAsync();
        await client.PostAsync($"/api/jobs/{job.Id}/finish", null);
        await client.DeleteAsync($"/api/jobs/{job.Id}");
        var expected = new[]
        {
            $"Job {job.Id}: none -> pending via enqueue",
            $"Job {job.Id}: pending -> in_progress via claim",
            $"Job {job.Id}: in_progress -> finished via finish",
            $"Job {job.Id}: finished -> deleted via delete",
        };
        Assert.Equal(expected, factory.LogLines.Where(line => line.StartsWith($"Job {job.Id}:")));
    }
}
