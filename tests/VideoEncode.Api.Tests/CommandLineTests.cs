using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>The ffmpeg command line a worker reports with a finish or a failure, kept on the job.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class CommandLineTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public CommandLineTests()
    {
        factory = new QueueFactory(settings: new Dictionary<string, string?> { ["RetryBackoffSeconds"] = "10" }, clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task EachRunsCommandLineIsKeptUntilALaterRunReportsAnother()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];

        var first = await client.ClaimAsync();
        var retried = await Fail(job.Id, new FailureReport("ffmpeg made no progress", ClaimToken: first!.ClaimToken, Retryable: true,
            CommandLine: "ffmpeg -i 'file:video.mp4' -c:v libx264"));
        Assert.Equal("ffmpeg -i 'file:video.mp4' -c:v libx264", retried.CommandLine);

        clock.Advance(TimeSpan.FromSeconds(10));
        var second = await client.ClaimAsync();
        Assert.Equal("ffmpeg -i 'file:video.mp4' -c:v libx264", second!.CommandLine);   // a new claim clears nothing
        // This run failed before ffmpeg started: the last line that ran stays.
        var failedEarly = await Fail(job.Id, new FailureReport("scratch folder full", ClaimToken: second.ClaimToken, Retryable: true));
        Assert.Equal("ffmpeg -i 'file:video.mp4' -c:v libx264", failedEarly.CommandLine);

        clock.Advance(TimeSpan.FromSeconds(20));
        var third = await client.ClaimAsync();
        var finished = await Finish(job.Id, new FinishReport(third!.ClaimToken!, CommandLine: "ffmpeg -i 'file:video.mp4' -c:v libx264 -crf 23"));
        Assert.Equal(JobStatus.Finished, finished.Status);
        Assert.Equal("ffmpeg -i 'file:video.mp4' -c:v libx264 -crf 23", finished.CommandLine);
        Assert.Equal("ffmpeg -i 'file:video.mp4' -c:v libx264 -crf 23", (await client.GetFromJsonAsync<Job>($"/api/jobs/{job.Id}", WireJson.Options))!.CommandLine);
    }

    [Fact]
    public async Task AFinishWithoutACommandLineAndTheOriginalServicesBodilessFinishStoreNone()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("a.mp4"), QueueCalls.NewJob("b.mp4"));
        var claimed = await client.ClaimAsync();
        Assert.Null((await Finish(jobs[0].Id, new FinishReport(claimed!.ClaimToken!))).CommandLine);

        await client.ClaimAsync();
        var bodiless = await client.PostAsync($"/api/jobs/{jobs[1].Id}/finish", null);
        Assert.Equal(HttpStatusCode.OK, bodiless.StatusCode);
        Assert.Null((await bodiless.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.CommandLine);
    }

    [Fact]
    public async Task ALongCommandLineIsCutToItsLimit()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();

        var failed = await Fail(job.Id, new FailureReport("boom", ClaimToken: claimed!.ClaimToken, CommandLine: "ffmpeg " + new string('a', 20_000)));

        Assert.Equal(FinishReport.MaxCommandLineChars, failed.CommandLine!.Length);
        Assert.StartsWith("ffmpeg aaa", failed.CommandLine);
    }

    [Theory]
    [InlineData("finish", """{"command_line": 5}""")]
    [InlineData("finish", """{"command_line": ["ffmpeg"]}""")]
    [InlineData("fail", """{"error": "boom", "command_line": {}}""")]
    public async Task ACommandLineThatIsNotAStringAnswers400AndTheJobKeepsRunning(string step, string body)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = await client.ClaimAsync();
        var withToken = $$"""{"claim_token": "{{claimed!.ClaimToken}}", """ + body[1..];

        var response = await client.PostAsync($"/api/jobs/{job.Id}/{step}", new StringContent(withToken, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("command_line must be a string", await QueueCalls.ErrorOf(response));
        Assert.Equal(JobStatus.InProgress, (await client.ListAsync())[0].Status);
    }

    private async Task<Job> Fail(long id, FailureReport report) => await Step(id, "fail", report);

    private async Task<Job> Finish(long id, FinishReport report) => await Step(id, "finish", report);

    private async Task<Job> Step(long id, string step, object report)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{id}/{step}", report, WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }
}
