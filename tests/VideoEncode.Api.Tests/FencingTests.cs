using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Api.Jobs;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Which steps must quote their claim, cancel winning over a give-back, and repeats that are answered, not refused.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class FencingTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public FencingTests()
    {
        factory = new QueueFactory(settings: new Dictionary<string, string?> { ["LeaseSeconds"] = "30", ["LeaseSweepSeconds"] = "3600", ["LeaderLeaseSeconds"] = "7200" }, clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    [Theory]
    [InlineData("finish", "{}")]
    [InlineData("finish", """{"claim_token": null}""")]
    [InlineData("fail", "")]
    [InlineData("fail", """{"error": "boom"}""")]
    [InlineData("fail", """{"error": "boom", "retryable": true, "claim_token": null}""")]
    [InlineData("heartbeat", "")]
    [InlineData("heartbeat", """{"progress": 10}""")]
    [InlineData("release", "")]
    [InlineData("release", "{}")]
    public async Task AWorkerStepWithoutItsTokenAnswers400NamingClaimTokenAndChangesNothing(string step, string body)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.ClaimAsync();
        var response = await client.PostAsync($"/api/jobs/{job.Id}/{step}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("claim_token", error.RootElement.GetProperty("field").GetString());
        Assert.Contains("claim_token", error.RootElement.GetProperty("error").GetString());
        Assert.Equal(JobStatus.InProgress, (await Get(job.Id)).Status);
    }

    [Fact]
    public async Task OnlyTheOriginalsBodilessFinishIsUnfenced()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        await client.GetAsync("/api/jobs/claim");
        var finished = await client.PostAsync($"/api/jobs/{job.Id}/finish", null);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal(JobStatus.Finished, (await Get(job.Id)).Status);
    }

    [Fact]
    public async Task ReleasingAJobWithAPendingCancelEndsItCancelled()
    {
        var (job, claimed) = await ClaimedJob();
        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var released = await Step(job.Id, "release", new ClaimProof(claimed.ClaimToken!));
        Assert.Equal((JobStatus.Cancelled, false), (released.Status, released.CancelRequested));
        Assert.Null(await client.ClaimAsync());
    }

    [Fact]
    public async Task ARetryableFailureOfAJobWithAPendingCancelEndsItCancelled()
    {
        var (job, claimed) = await ClaimedJob();
        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var failed = await Step(job.Id, "fail", new FailureReport("share went away", ClaimToken: claimed.ClaimToken, Retryable: true));
        Assert.Equal(JobStatus.Cancelled, failed.Status);
        Assert.Contains(factory.LogLines, line => line.Contains($"Job {job.Id}: in_progress -> cancelled via cancel"));
    }

    [Fact]
    public async Task FinishingClearsAPendingCancel()
    {
        var (job, claimed) = await ClaimedJob();
        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var finished = await Step(job.Id, "finish", new ClaimProof(claimed.ClaimToken!));
        Assert.Equal((JobStatus.Finished, false), (finished.Status, finished.CancelRequested));
    }

    public static TheoryData<string, bool> Repeats => new()
    {
        { "finish", false },
        { "fail", false },
        { "fail-retryable", false },
        { "cancel-ack", true },
        { "release", false },
    };

    [Theory]
    [MemberData(nameof(Repeats))]
    public async Task RepeatingAStepThatLandedAnswers200WithTheJobUnchanged(string step, bool cancelFirst)
    {
        var (job, claimed) = await ClaimedJob();
        if (cancelFirst) await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var token = claimed.ClaimToken!;
        (string Path, object Body) request = step switch
        {
            "finish" => ("finish", new ClaimProof(token)),
            "fail" => ("fail", new FailureReport("bad input", ClaimToken: token)),
            "fail-retryable" => ("fail", new FailureReport("share went away", ClaimToken: token, Retryable: true)),
            "cancel-ack" => ("cancel", new ClaimProof(token)),
            _ => ("release", new ClaimProof(token)),
        };
        var first = await Step(job.Id, request.Path, request.Body);
        var linesAfterFirst = factory.LogLines.Count(line => line.StartsWith($"Job {job.Id}:"));

        clock.Advance(TimeSpan.FromSeconds(5));
        var again = await Step(job.Id, request.Path, request.Body);

        Assert.Equal(first, again);
        Assert.Equal(linesAfterFirst, factory.LogLines.Count(line => line.StartsWith($"Job {job.Id}:")));
    }

    public static TheoryData<string, string> DifferentSecondSteps => new()
    {
        { "release", "fail" },                 // a job given back was never failed
        { "fail-retryable", "fail" },           // a job put back for a retry was not failed for good
        { "fail-retryable", "release" },
        { "fail", "fail-retryable" },
        { "cancel-ack", "release" },
    };

    [Theory]
    [MemberData(nameof(DifferentSecondSteps))]
    public async Task AStepThatDiffersFromWhatTheClaimDidLastIs409(string first, string second)
    {
        var (job, claimed) = await ClaimedJob();
        if (first == "cancel-ack") await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var done = await Step(job.Id, Path(first), Body(first, claimed.ClaimToken!));

        var response = await client.PostAsync($"/api/jobs/{job.Id}/{Path(second)}",
            JsonContent.Create(Body(second, claimed.ClaimToken!), Body(second, "").GetType(), options: WireJson.Options));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(done, await Get(job.Id));
    }

    private static string Path(string step) => step switch
    {
        "fail" or "fail-retryable" => "fail",
        "cancel-ack" => "cancel",
        _ => step,
    };

    private static object Body(string step, string token) => step switch
    {
        "fail" => new FailureReport("bad input", ClaimToken: token),
        "fail-retryable" => new FailureReport("share went away", ClaimToken: token, Retryable: true),
        _ => new ClaimProof(token),
    };

    [Fact]
    public async Task ARepeatAfterTheJobMovedOnIsStill409()
    {
        var (job, claimed) = await ClaimedJob();
        await Step(job.Id, "fail", new FailureReport("share went away", ClaimToken: claimed.ClaimToken, Retryable: true));
        clock.Advance(TimeSpan.FromHours(1));
        var second = await client.ClaimAsync();
        Assert.Equal(job.Id, second!.Id);
        var late = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail",
            new FailureReport("share went away", ClaimToken: claimed.ClaimToken, Retryable: true), WireJson.Options);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(JobStatus.InProgress, (await Get(job.Id)).Status);
    }

    private async Task<(Job Job, Job Claimed)> ClaimedJob()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();
        Assert.Equal(job.Id, claimed!.Id);
        return (job, claimed);
    }

    private async Task<Job> Step(long id, string step, object body)
    {
        var response = await client.PostAsync($"/api/jobs/{id}/{step}", JsonContent.Create(body, body.GetType(), options: WireJson.Options));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    private async Task<Job> Get(long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
