using System.Collections.Concurrent;
using System.Net;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
[RunsLong]
public sealed class ConcurrencyTests : IDisposable
{
    private readonly QueueFactory factory = new();

    public void Dispose() => factory.Dispose();

    /// <summary>The original service handed the same job to every concurrent claimer; this must not.</summary>
    [Fact]
    public async Task SixtyFourConcurrentClaimersGetEachOfTwoThousandJobsExactlyOnce()
    {
        const int jobCount = 2000, claimers = 64;
        var client = factory.CreateApiClient();
        var enqueued = await client.EnqueueAsync(Enumerable.Range(0, jobCount).Select(i => QueueCalls.NewJob($"{i}.mp4")).ToArray());

        var claimed = new ConcurrentBag<long>();
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, claimers).Select(_ => Task.Run(async () =>
        {
            var own = factory.CreateApiClient();
            start.Wait();
            while (await own.ClaimAsync() is { } job)
                claimed.Add(job.Id);
        })).ToArray();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(jobCount, claimed.Count);
        Assert.Equal(enqueued.Select(job => job.Id).Order(), claimed.Order());
        Assert.Empty(await client.ListAsync("status=pending"));

        var finishes = await Task.WhenAll(claimed.Chunk(jobCount / claimers).Select(ids => Task.Run(async () =>
        {
            var own = factory.CreateApiClient();
            var statuses = new List<HttpStatusCode>();
            foreach (var id in ids)
                statuses.Add((await own.PostAsync($"/api/jobs/{id}/finish", null)).StatusCode);
            return statuses;
        })));

        Assert.All(finishes.SelectMany(statuses => statuses), status => Assert.Equal(HttpStatusCode.OK, status));
        var finished = await client.ListAsync("status=finished&limit=1000");
        Assert.Equal(1000, finished.Length);
        Assert.Equal(jobCount, (await client.ListAsync("status=finished&limit=1000&offset=1000")).Length + 1000);
        Assert.All(finished, job => Assert.NotNull(job.Finished));
        Assert.Equal(jobCount, factory.LogLines.Count(line => line.Contains("in_progress -> finished")));
        Assert.Equal(jobCount, factory.LogLines.Count(line => line.Contains("pending -> in_progress")));
    }

    [Fact]
    public async Task ConcurrentBulkEnqueuesAreAllStoredWithDistinctIds()
    {
        var client = factory.CreateApiClient();
        var batches = await Task.WhenAll(Enumerable.Range(0, 20).Select(batch =>
            factory.CreateApiClient().EnqueueAsync(Enumerable.Range(0, 50).Select(i => QueueCalls.NewJob($"{batch}/{i}.mp4")).ToArray())));
        var ids = batches.SelectMany(batch => batch.Select(job => job.Id)).ToList();
        Assert.Equal(1000, ids.Distinct().Count());
        Assert.Equal(1000, (await client.ListAsync("status=pending&limit=1000")).Length);
        Assert.All(batches, batch => Assert.Equal(batch.Select(job => job.Id).Order(), batch.Select(job => job.Id)));
        Assert.All(await client.ListAsync(), job => Assert.Equal(JobStatus.Pending, job.Status));
    }
}
