using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

public sealed class PagesAndStatsTests : IDisposable
{
    private readonly QueueFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Theory]
    [InlineData("/", "View jobs")]
    [InlineData("/add-jobs/", "Add one job")]
    [InlineData("/view-jobs/", "view-jobs.js")]
    [InlineData("/shared/api.js", "videoEncodeApiKey")]
    public async Task ThePagesAreServedWithoutAKeyAndWithAStrictContentSecurityPolicy(string path, string content)
    {
        var response = await factory.CreateApiClient(key: null).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(content, await response.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task SwaggerIsServedWithThePagesContentSecurityPolicy(string path)
    {
        var response = await factory.CreateApiClient(key: null).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var pages = await factory.CreateApiClient(key: null).GetAsync("/view-jobs/");
        Assert.Equal(pages.Headers.GetValues("Content-Security-Policy").Single(), response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task APageAddressWithoutItsSlashIsRedirected()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync("/view-jobs");
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.EndsWith("/view-jobs/", response.Headers.Location!.ToString());
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task StatsCountEveryStatusIncludingZeros()
    {
        var client = factory.CreateApiClient();
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("a"), QueueCalls.NewJob("b"), QueueCalls.NewJob("c"), QueueCalls.NewJob("d"));
        await client.ClaimAsync();
        await client.ClaimAsync();
        await client.PostAsync($"/api/jobs/{jobs[0].Id}/finish", null);

        var stats = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/stats");

        Assert.Equal(4, stats.GetProperty("total").GetInt64());
        var counts = stats.GetProperty("counts");
        Assert.Equal(2, counts.GetProperty(JobStatus.Pending).GetInt64());
        Assert.Equal(1, counts.GetProperty(JobStatus.InProgress).GetInt64());
        Assert.Equal(1, counts.GetProperty(JobStatus.Finished).GetInt64());
        Assert.Equal(0, counts.GetProperty(JobStatus.Failed).GetInt64());
    }
}
