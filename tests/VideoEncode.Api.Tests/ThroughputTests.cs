using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>GET /api/stats/throughput: jobs finished and failed per minute over the last hour.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class ThroughputTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public ThroughputTests()
    {
        factory = new QueueFactory(clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    private async Task EndOneAsync(bool fail)
    {
        await client.EnqueueAsync(QueueCalls.NewJob($"{Guid.NewGuid():N}.mkv"));
        var job = (await client.ClaimAsync())!;
        var response = fail
            ? await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new FailureReport("broken", ClaimToken: job.ClaimToken), WireJson.Options)
            : await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = job.ClaimToken });
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task CountsEachMinuteOfTheLastHourOldestFirst()
    {
        await EndOneAsync(fail: false);            // 61 minutes ago by the end: outside the hour
        clock.Advance(TimeSpan.FromMinutes(31));
        await EndOneAsync(fail: false);
        await EndOneAsync(fail: true);
        clock.Advance(TimeSpan.FromMinutes(30));
        await EndOneAsync(fail: false);

        var minutes = (await client.GetFromJsonAsync<JsonElement>("/api/stats/throughput")).GetProperty("per_minute").EnumerateArray().ToList();

        Assert.Equal(60, minutes.Count);
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now / 60 * 60, minutes[^1].GetProperty("at").GetInt64());
        Assert.Equal(minutes[^1].GetProperty("at").GetInt64() - 59 * 60, minutes[0].GetProperty("at").GetInt64());
        Assert.Equal((1, 0), (minutes[^1].GetProperty("finished").GetInt64(), minutes[^1].GetProperty("failed").GetInt64()));
        Assert.Equal((1, 1), (minutes[^31].GetProperty("finished").GetInt64(), minutes[^31].GetProperty("failed").GetInt64()));
        Assert.Equal(2, minutes.Sum(minute => minute.GetProperty("finished").GetInt64()));
    }
}
