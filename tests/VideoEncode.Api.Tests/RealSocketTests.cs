using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Request bodies over real keep-alive connections to Kestrel, where buffers are pooled and reused
/// (the in-memory test server never reuses them): each body must be read as it was sent. (A
/// document parsed over a buffer handed back to Kestrel once mixed bodies up under the benchmark's
/// load; this test checks the path end to end but does not reliably provoke that rare race — the
/// benchmark's double-claim and lost-job counts do.)
/// </summary>
public sealed class RealSocketTests : IDisposable
{
    private readonly QueueFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task EveryBodyOnAKeepAliveConnectionIsReadAsItWasSent()
    {
        var address = factory.StartOnLoopback();
        await factory.CreateApiClient().EnqueueAsync(Enumerable.Range(0, 1600).Select(i => QueueCalls.NewJob($"{i}.mkv")).ToArray());

        await Task.WhenAll(Enumerable.Range(0, 16).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = address };
            http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
            for (var round = 0; round < 100; round++)
            {
                var name = $"client-{client}-round-{round}-{new string('x', round % 37)}";
                var claim = await http.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(name), WireJson.Options);
                Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
                var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
                Assert.Equal(name, job.Worker);
                var finish = await http.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options);
                Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
            }
        })));

        // Every one of the 1,600 cycles finished its own job: none left pending, none finished twice.
        var stats = await factory.CreateApiClient().GetFromJsonAsync<System.Text.Json.JsonElement>("/api/stats");
        Assert.Equal(1600, stats.GetProperty("counts").GetProperty(JobStatus.Finished).GetInt64());
        Assert.Equal(0, stats.GetProperty("counts").GetProperty(JobStatus.Pending).GetInt64());
    }
}
