using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>POST /api/jobs/bulk: one action on many jobs, named by ids or by a filter, in one transaction.</summary>
[Trait("Store", TestStore.Contract)]
[RunsLong]
public sealed class BulkTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public BulkTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    private async Task<JsonElement> BulkAsync(object body, HttpClient? caller = null)
    {
        var response = await (caller ?? client).PostAsJsonAsync("/api/jobs/bulk", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<Job[]> FailedJobsAsync(params string[] names)
    {
        var jobs = await client.EnqueueAsync(names.Select(name => QueueCalls.NewJob(name)).ToArray());
        foreach (var _ in jobs)
        {
            var claimed = (await client.ClaimAsync())!;
            (await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/fail", new FailureReport("broken", ClaimToken: claimed.ClaimToken), WireJson.Options))
                .EnsureSuccessStatusCode();
        }
        return jobs;
    }

    private static long[] Ids(JsonElement answer, string property) => answer.GetProperty(property).EnumerateArray().Select(id => id.GetInt64()).ToArray();

    [Fact]
    public async Task RetriesFiftyFailedJobsInOneRequestWithOneAuditEntry()
    {
        var jobs = await FailedJobsAsync(Enumerable.Range(1, 50).Select(i => $"clip{i}.mkv").ToArray());
        var answer = await BulkAsync(new { action = "retry", ids = jobs.Select(job => job.Id) });

        Assert.Equal(50, answer.GetProperty("changed").GetInt32());
        Assert.Equal(jobs.Select(job => job.Id).OrderDescending(), Ids(answer, "changed_ids"));
        Assert.Equal(0, answer.GetProperty("skipped_count").GetInt32());
        Assert.False(answer.GetProperty("more_matched").GetBoolean());
        var listed = await client.ListAsync();
        Assert.All(listed, job => Assert.Equal((JobStatus.Pending, 0L, (string?)null), (job.Status, job.Attempts, job.Error)));

        var audit = (await client.GetFromJsonAsync<JsonElement>("/api/audit")).EnumerateArray()
            .Where(entry => entry.GetProperty("action").GetString() == "job.retry").ToList();
        var entry = Assert.Single(audit);
        Assert.Equal("bulk", entry.GetProperty("target").GetString());
        Assert.StartsWith("bulk: 50 changed (50, 49, 48", entry.GetProperty("detail").GetString());
        Assert.Equal("VIDEOENCODE_APIKEY", entry.GetProperty("key_name").GetString());
    }

    [Fact]
    public async Task DeleteByFilterLeavesRunningJobsAndSaysWhy()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("season1/a.mkv"), QueueCalls.NewJob("season1/b.mkv"),
            QueueCalls.NewJob("season2/c.mkv"), QueueCalls.NewJob("season1/d.mkv"));
        var running = (await client.ClaimAsync())!; // season1/a.mkv

        var answer = await BulkAsync(new { action = "delete", q = "SEASON1" });

        Assert.Equal([jobs[3].Id, jobs[1].Id], Ids(answer, "changed_ids"));
        var skip = Assert.Single(answer.GetProperty("skipped").EnumerateArray());
        Assert.Equal(running.Id, skip.GetProperty("id").GetInt64());
        Assert.Equal("running jobs cannot be deleted; cancel them first", skip.GetProperty("reason").GetString());
        Assert.Equal(["season2/c.mkv", "season1/a.mkv"], (await client.ListAsync()).Select(job => job.FileName));
    }

    [Fact]
    public async Task CancelEndsPendingJobsAsksWorkersToStopRunningOnesAndSkipsTheRest()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("running.mkv"), QueueCalls.NewJob("done.mkv"), QueueCalls.NewJob("waiting.mkv"));
        await client.ClaimAsync();
        var done = (await client.ClaimAsync())!;
        await client.PostAsJsonAsync($"/api/jobs/{done.Id}/finish", new { claim_token = done.ClaimToken });

        var answer = await BulkAsync(new { action = "cancel", ids = new[] { jobs[0].Id, jobs[1].Id, jobs[2].Id, 999 } });

        Assert.Equal([jobs[2].Id, jobs[0].Id], Ids(answer, "changed_ids"));
        Assert.Equal(["finished jobs cannot be cancelled", "no such job"],
            answer.GetProperty("skipped").EnumerateArray().Select(skip => skip.GetProperty("reason").GetString()));
        var byId = (await client.ListAsync()).ToDictionary(job => job.Id);
        Assert.Equal(JobStatus.Cancelled, byId[jobs[2].Id].Status);
        Assert.Equal((JobStatus.InProgress, true), (byId[jobs[0].Id].Status, byId[jobs[0].Id].CancelRequested));

        var again = await BulkAsync(new { action = "cancel", ids = new[] { jobs[0].Id } });
        Assert.Equal(0, again.GetProperty("changed").GetInt32());
        Assert.Equal("a cancel is already waiting for its worker", again.GetProperty("skipped")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ARetryThatWouldGiveTwoLiveJobsOneOutputRetriesOnlyTheNewest()
    {
        var older = (await FailedJobsAsync("take1/movie.mkv"))[0];
        var newer = (await client.EnqueueAsync(new { file_name = "take2/movie.mkv", crf = "23", preset = "medium", output_name = older.OutputName }))[0];
        var claimed = (await client.ClaimAsync())!;
        await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/fail", new FailureReport("broken", ClaimToken: claimed.ClaimToken), WireJson.Options);
        var third = (await FailedJobsAsync("third.mkv"))[0];
        await client.EnqueueAsync(new { file_name = "holder.mkv", crf = "23", preset = "medium", output_name = "THIRD.mp4" });

        var answer = await BulkAsync(new { action = "retry", status = "failed" });

        Assert.Equal([newer.Id], Ids(answer, "changed_ids"));
        Assert.Equal([third.Id, older.Id], answer.GetProperty("skipped").EnumerateArray().Select(skip => skip.GetProperty("id").GetInt64()));
        Assert.All(answer.GetProperty("skipped").EnumerateArray(),
            skip => Assert.StartsWith("another pending or running job writes its output_name", skip.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task EachActionNeedsItsSingleRoutesRole()
    {
        var submit = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(client, "desk", "submit"));
        var reader = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(client, "wall", "read"));
        await FailedJobsAsync("x.mkv");

        Assert.Equal(1, (await BulkAsync(new { action = "retry", status = "all" }, submit)).GetProperty("changed").GetInt32());
        var delete = await submit.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", status = "all" });
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal("The key 'desk' has the role 'submit', which may not delete jobs; that needs admin.", await QueueCalls.ErrorOf(delete));
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", status = "all" })).StatusCode);
        Assert.Single(await client.ListAsync());
    }

    [Theory]
    [InlineData("""{"action": "explode", "ids": [1]}""", "action must be one of: cancel, retry, reset, delete.")]
    [InlineData("""{"action": "retry"}""", "Name the jobs: ids, or a filter")]
    [InlineData("""{"action": "retry", "ids": [1], "status": "failed"}""", "Name the jobs by ids or by a filter (status, q), not both.")]
    [InlineData("""{"action": "retry", "ids": []}""", "ids must name 1 to 10000 jobs.")]
    [InlineData("""{"action": "retry", "ids": [1, "2"]}""", "ids must be an array of job ids (whole numbers from 1).")]
    [InlineData("""{"action": "retry", "status": "broken"}""", "status must be one of:")]
    [InlineData("""{"action": "retry", "q": 5}""", "status and q must be strings.")]
    [InlineData("""[1, 2]""", "The body must be a JSON object")]
    public async Task ABadRequestIsRefusedWithAMessageAndChangesNothing(string body, string error)
    {
        await FailedJobsAsync("x.mkv");
        var response = await client.PostAsync("/api/jobs/bulk", new StringContent(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(error, await QueueCalls.ErrorOf(response));
        Assert.Equal(JobStatus.Failed, (await client.ListAsync())[0].Status);
    }

    [Fact]
    public async Task TooManyIdsOrATooLongSearchAreRefused()
    {
        var ids = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", ids = Enumerable.Range(1, 10_001) });
        Assert.Equal(HttpStatusCode.BadRequest, ids.StatusCode);
        var search = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", q = new string('x', FileNames.MaxLength + 1) });
        Assert.Equal(HttpStatusCode.BadRequest, search.StatusCode);
    }

    [Fact]
    public async Task AFilterHandlesTheNewestTenThousandMatchesAndSaysWhenMoreMatched()
    {
        await client.EnqueueAsync(Enumerable.Range(1, 10_000).Select(i => QueueCalls.NewJob($"batch/{i}.mkv")).ToArray());
        await client.EnqueueAsync(QueueCalls.NewJob("batch/last.mkv"), QueueCalls.NewJob("elsewhere.mkv"));

        var first = await BulkAsync(new { action = "cancel", status = "pending", q = "batch/" });
        Assert.Equal((10_000, true), (first.GetProperty("changed").GetInt32(), first.GetProperty("more_matched").GetBoolean()));
        Assert.Equal(1000, first.GetProperty("changed_ids").GetArrayLength());
        var second = await BulkAsync(new { action = "cancel", status = "pending", q = "batch/" });
        Assert.Equal((1, false), (second.GetProperty("changed").GetInt32(), second.GetProperty("more_matched").GetBoolean()));
        Assert.Equal(["elsewhere.mkv"], (await client.ListAsync("status=pending")).Select(job => job.FileName));
    }
}
