using System.Net;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
public sealed class ListTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public ListTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task ListsNewestFirstAndFiltersByStatus()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("a.mp4"), QueueCalls.NewJob("b.mp4"), QueueCalls.NewJob("c.mp4"));
        await client.ClaimAsync();                                  // a: in progress
        await client.ClaimAsync();                                  // b: in progress
        await client.PostAsync($"/api/jobs/{jobs[1].Id}/finish", null); // b: finished

        Assert.Equal(["c.mp4", "b.mp4", "a.mp4"], (await client.ListAsync("")).Select(job => job.FileName));
        Assert.Equal(["c.mp4", "b.mp4", "a.mp4"], (await client.ListAsync("status=all")).Select(job => job.FileName));
        Assert.Equal(["c.mp4"], (await client.ListAsync("status=pending")).Select(job => job.FileName));
        Assert.Equal(["a.mp4"], (await client.ListAsync("status=in_progress")).Select(job => job.FileName));
        Assert.Equal(["b.mp4"], (await client.ListAsync("status=finished")).Select(job => job.FileName));
    }

    [Fact]
    public async Task LimitAndOffsetPageThroughTheListWhereTheOriginalAnswered500()
    {
        await client.EnqueueAsync(Enumerable.Range(1, 25).Select(i => QueueCalls.NewJob($"{i}.mp4")).ToArray());

        var first = await client.ListAsync("status=pending&limit=10");
        var second = await client.ListAsync("status=pending&limit=10&offset=10");
        var third = await client.ListAsync("limit=10&offset=20");

        Assert.Equal(Enumerable.Range(16, 10).Reverse().Select(i => $"{i}.mp4"), first.Select(job => job.FileName));
        Assert.Equal(Enumerable.Range(6, 10).Reverse().Select(i => $"{i}.mp4"), second.Select(job => job.FileName));
        Assert.Equal(5, third.Length);
        Assert.Empty(await client.ListAsync("limit=10&offset=1000"));
    }

    [Fact]
    public async Task BeforeIdPagesByKeyAndCombinesWithTheStatusFilter()
    {
        var jobs = await client.EnqueueAsync(Enumerable.Range(1, 30).Select(i => QueueCalls.NewJob($"{i}.mp4")).ToArray());
        await client.ClaimAsync(); // 1.mp4 leaves "pending"
        var page = await client.ListAsync($"status=pending&limit=5&before_id={jobs[20].Id}");
        Assert.Equal(Enumerable.Range(16, 5).Reverse().Select(i => $"{i}.mp4"), page.Select(job => job.FileName));
        var last = await client.ListAsync($"status=pending&limit=50&before_id={jobs[3].Id}");
        Assert.Equal(["3.mp4", "2.mp4"], last.Select(job => job.FileName));
        var bad = await client.GetAsync("/api/jobs?before_id=abc");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.StartsWith("before_id", await QueueCalls.ErrorOf(bad));
    }

    [Fact]
    public async Task WithoutALimitTheListAnswersAtMostTheDefaultPage()
    {
        await client.EnqueueAsync(Enumerable.Range(0, 150).Select(i => QueueCalls.NewJob($"{i}.mp4")).ToArray());
        Assert.Equal(100, (await client.ListAsync("")).Length);
        Assert.Equal(150, (await client.ListAsync("limit=1000")).Length);
    }

    [Theory]
    [InlineData("status=done", "status")]
    [InlineData("status=PENDING", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=99999999999", "limit")]
    [InlineData("offset=-1", "offset")]
    [InlineData("offset=x", "offset")]
    public async Task BadQueryParametersAnswer400NamingTheParameter(string query, string parameter)
    {
        var response = await client.GetAsync($"/api/jobs?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(parameter, await QueueCalls.ErrorOf(response));
    }

    [Fact]
    public async Task EmptyParametersCountAsAbsent()
    {
        await client.EnqueueAsync(QueueCalls.NewJob());
        var jobs = await client.ListAsync("status=&limit=&offset=");
        Assert.Equal(JobStatus.Pending, Assert.Single(jobs).Status);
    }
}
