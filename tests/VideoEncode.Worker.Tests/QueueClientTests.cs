using System.Net;
using System.Diagnostics;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

public sealed class QueueClientTests
{
    [Fact]
    public async Task TransientFailuresAreRetriedUntilTheResultLands()
    {
        var handler = new ScriptedHandler(
            _ => throw new HttpRequestException("Connection refused"),
            _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            _ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 5, "status": "finished"}"""));
        var client = Client(handler);

        await client.FinishAsync(5, new FinishReport("token"), CancellationToken.None);

        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, request => Assert.Equal("/api/jobs/5/finish", request));
    }

    [Fact]
    public async Task ARefusalIsNotRetried()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.NotFound, """{"error": "Job not found or not started"}"""));
        var rejected = await Assert.ThrowsAsync<QueueRejectedException>(() => Client(handler).FinishAsync(5, new FinishReport("token"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, rejected.Status);
        Assert.Contains("Job not found or not started", rejected.Message);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AnEmptyQueueIsNullNotAnError()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.NotFound, """{"error": "No jobs available"}"""));
        Assert.Null(await Client(handler).ClaimAsync("w1", TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task TheClaimSaysWhoAsksHowLongToWaitWhichJobsItTakesAndHowLargeAnInputFits()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.NotFound, """{"error": "No jobs available"}"""));
        await Client(handler).ClaimAsync("encoder-7", TimeSpan.FromSeconds(25), CancellationToken.None, MediaKinds.Store, 5_000_000);
        Assert.Equal("""{"worker":"encoder-7","wait":25,"media":"store","max_input_bytes":5000000}""", Assert.Single(handler.Bodies));
    }

    [Fact]
    public async Task StoppingEndsTheRetriesOfAClaim()
    {
        var handler = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway));
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client(handler).ClaimAsync("w1", TimeSpan.FromSeconds(1), stop.Token));
    }

    [Fact]
    public async Task TheFailureReportIsSentInWireJson()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 9, "status": "failed"}"""));
        await Client(handler).FailAsync(9, new FailureReport("boom", "tail", "t0k3n", CommandLine: "ffmpeg -i 'file:a b.mkv'"), CancellationToken.None);
        Assert.Equal("""{"error":"boom","log_tail":"tail","claim_token":"t0k3n","retryable":false,"command_line":"ffmpeg -i \u0027file:a b.mkv\u0027"}""",
            Assert.Single(handler.Bodies));
    }

    [Fact]
    public async Task AHeartbeatIsASingleAttemptThatReportsNoAnswerInsteadOfRetrying()
    {
        var handler = new ScriptedHandler(_ => throw new HttpRequestException("Connection refused"));

        var answer = await Client(handler).HeartbeatAsync(5, new Heartbeat("t"), TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Contains("Connection refused", Assert.IsType<HeartbeatAnswer.Unanswered>(answer).Reason);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AHeartbeatToAHostThatDoesNotAnswerIsGivenUpAfterItsTimeout()
    {
        var http = new HttpClient(new SilentHandler()) { BaseAddress = new Uri("http://queue.test") };
        var queue = new QueueClient(http, new ConsoleOutput(TextWriter.Null, live: false));

        var answer = await queue.HeartbeatAsync(5, new Heartbeat("t"), TimeSpan.FromMilliseconds(200), CancellationToken.None);

        Assert.IsType<HeartbeatAnswer.Unanswered>(answer);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, typeof(HeartbeatAnswer.Refused))]
    [InlineData(HttpStatusCode.Conflict, typeof(HeartbeatAnswer.Lost))]
    [InlineData(HttpStatusCode.NotFound, typeof(HeartbeatAnswer.Lost))]
    [InlineData(HttpStatusCode.ServiceUnavailable, typeof(HeartbeatAnswer.Unanswered))]
    public async Task AHeartbeatsAnswerSaysWhatItCameTo(HttpStatusCode status, Type expected)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(status, """{"error": "no"}"""));
        var answer = await Client(handler).HeartbeatAsync(5, new Heartbeat("t"), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.IsType(expected, answer);
    }

    [Fact]
    public async Task ARenewedLeaseCarriesTheCancelRequest()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 5, "status": "in_progress", "cancel_requested": true}"""));
        var answer = await Client(handler).HeartbeatAsync(5, new Heartbeat("t"), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(new HeartbeatAnswer.Renewed(CancelRequested: true), answer);
    }

    private static QueueClient Client(HttpMessageHandler handler)
    {
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://queue.test") };
        return new QueueClient(http, new ConsoleOutput(TextWriter.Null, live: false));
    }

    /// <summary>A host that accepts the request and never answers.</summary>
    private sealed class SilentHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new UnreachableException();
        }
    }
}
