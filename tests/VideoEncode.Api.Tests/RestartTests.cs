using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
public sealed class RestartTests
{
    [Fact]
    public async Task EveryJobAndItsStateSurviveAStopAndStartOnTheSameFile()
    {
        var path = TestStore.NewDatabase();
        try
        {
            Job[] before;
            using (var first = new QueueFactory(path))
            {
                var client = first.CreateApiClient();
                var jobs = await client.EnqueueAsync(QueueCalls.NewJob("done.mp4"), QueueCalls.NewJob("running.mp4", "18.5", "slow"), QueueCalls.NewJob("waiting.mp4"));
                await client.ClaimAsync();
                await client.ClaimAsync();
                await client.PostAsync($"/api/jobs/{jobs[0].Id}/finish", null);
                before = await client.ListAsync();
            }

            using var second = new QueueFactory(path);
            var after = await second.CreateApiClient().ListAsync();
            Assert.Equal(before, after);
            Assert.Equal([JobStatus.Pending, JobStatus.InProgress, JobStatus.Finished], after.Select(job => job.Status));

            var next = (await second.CreateApiClient().EnqueueAsync(QueueCalls.NewJob()))[0];
            Assert.True(next.Id > before.Max(job => job.Id));
        }
        finally
        {
            TestStore.Delete(path);
        }
    }
}
