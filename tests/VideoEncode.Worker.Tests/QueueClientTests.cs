using System.Net;
using System.Text;
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
            _ => Json(HttpStatusCode.OK, """{"id": 5, "status": "finished"}"""));
        var client = Client(handler);

        await client.FinishAsync(5, "token", CancellationToken.None);

        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, request => Assert.Equal("/api/jobs/5/finish", request));
    }

    [Fact]
    public async Task ARefusalIsNotRetried()
    {
        var handler = new ScriptedHandler(_ => Json(HttpStatusCode.NotFound, """{"error": "Job not found or not started"}"""));
        var rejected = await Assert.ThrowsAsync<QueueRejectedException>(() => Client(handler).FinishAsync(5, "token", CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, rejected.Status);
        Assert.Contains("Job not found or not started", rejected.Message);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AnEmptyQueueIsNullNotAnError()
    {
        var handler = new ScriptedHandler(_ => Json(HttpStatusCode.NotFound, """{"error": "No jobs available"}"""));
        Assert.Null(await Client(handler).ClaimAsync("w1", TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task TheClaimSaysWhoAsksAndHowLongToWait()
    {
        string? body = null;
        var handler = new ScriptedHandler(request =>
        {
            body = request.Content!.ReadAsStringAsync().Result;
            return Json(HttpStatusCode.NotFound, """{"error": "No jobs available"}""");
        });
        await Client(handler).ClaimAsync("encoder-7", TimeSpan.FromSeconds(25), CancellationToken.None);
        Assert.Equal("""{"worker":"encoder-7","wait":25}""", body);
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
        string? body = null;
        var handler = new ScriptedHandler(request =>
        {
            body = request.Content!.ReadAsStringAsync().Result;
            return Json(HttpStatusCode.OK, """{"id": 9, "status": "failed"}""");
        });
        await Client(handler).FailAsync(9, new FailureReport("boom", "tail", "t0k3n"), CancellationToken.None);
        Assert.Equal("""{"error":"boom","log_tail":"tail","claim_token":"t0k3n","retryable":false}""", body);
    }

    private static QueueClient Client(HttpMessageHandler handler)
    {
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://queue.test") };
        return new QueueClient(http, new ConsoleOutput(TextWriter.Null, live: false));
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>Answers each request with the next step of a script; the last step repeats.</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] steps) : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!.AbsolutePath);
            var step = steps[Math.Min(Requests.Count - 1, steps.Length - 1)];
            return Task.FromResult(step(request));
        }
    }
}
