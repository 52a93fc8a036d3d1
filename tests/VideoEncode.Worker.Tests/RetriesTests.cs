using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>The worker's one retry policy, on a manual clock: what is tried again, after which pauses, and what never is.</summary>
public sealed class RetriesTests : IAsyncDisposable
{
    private readonly FakeTimeProvider time = new();
    private readonly StringWriter printed = new();
    private readonly ConsoleOutput console;
    private readonly Retries retries;

    public RetriesTests()
    {
        console = new ConsoleOutput(printed, live: false);
        retries = new Retries(console, time);
    }

    public ValueTask DisposeAsync() => console.DisposeAsync();

    [Fact]
    public async Task ThePausesStartAtHalfASecondAndDoubleUpTo30SecondsWhateverTheNumberOfTries()
    {
        var calls = 0;

        await DriveAsync(retries.RunAsync("finish job 5", _ => ++calls <= 70 ? throw new HttpRequestException("Connection refused") : Task.CompletedTask,
            CancellationToken.None));

        Assert.Equal(71, calls);
        Assert.Equal([0.5, 1, 2, 4, 8, 16, .. Enumerable.Repeat(30.0, 64)], Pauses());
        Assert.Single(Lines(), line => line.EndsWith(" The host is back; finish job 5 went through.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACallersCapShortensThePausesButNeverLengthensThem()
    {
        var calls = 0;
        Task Failing(CancellationToken _) => ++calls % 8 != 0 ? throw new TransientException("the host answered 503") : Task.CompletedTask;

        await DriveAsync(retries.RunAsync("report job 5 failed", Failing, CancellationToken.None, maxDelay: TimeSpan.FromSeconds(5)));
        await DriveAsync(retries.RunAsync("report job 5 failed", Failing, CancellationToken.None, maxDelay: TimeSpan.FromMinutes(5)));

        Assert.Equal([0.5, 1, 2, 4, 5, 5, 5, 0.5, 1, 2, 4, 8, 16, 30], Pauses());
    }

    [Fact]
    public async Task TheNextTryWaitsForTheClockNotForTheWall()
    {
        var calls = 0;
        var running = retries.RunAsync("give job 5 back", _ => ++calls == 1 ? throw new HttpRequestException("Connection reset") : Task.CompletedTask,
            CancellationToken.None);
        await Eventually.TrueAsync(() => Lines().Any(line => line.Contains("retrying in 0.5 s")), () => printed.ToString());

        time.Advance(TimeSpan.FromMilliseconds(499));
        await Task.Delay(100);
        Assert.Equal(1, calls);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task PassingFailuresAreRetriedAndOthersEndTheStepAtOnce()
    {
        Exception[] passing =
        [
            new HttpRequestException("Connection refused"), new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely"),
            new System.Text.Json.JsonException("garbled"), new TransientException("the host answered 503"),
            new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 85 seconds elapsing."),
        ];
        foreach (var failure in passing)
        {
            var calls = 0;
            await DriveAsync(retries.RunAsync("finish job 5", _ => ++calls == 1 ? throw failure : Task.CompletedTask, CancellationToken.None));
            Assert.True(calls == 2, failure.GetType().Name);
        }

        Exception[] final =
        [
            new IOException("No space left on device"), new QueueRejectedException(HttpStatusCode.Conflict, "stale claim"),
            new Transfers.TransferFailedException("gone", retryable: false), new InvalidOperationException("a bug"),
        ];
        foreach (var failure in final)
        {
            var calls = 0;
            var thrown = await Assert.ThrowsAnyAsync<Exception>(() => retries.RunAsync("finish job 5", _ => ++calls == 1 ? throw failure : Task.CompletedTask,
                CancellationToken.None));
            Assert.Same(failure, thrown);
            Assert.Equal(1, calls);
        }
    }

    [Fact]
    public async Task CancellingEndsTheRetriesAndAStepCancelledByItsCallerIsNotRetried()
    {
        using var stop = new CancellationTokenSource();
        var calls = 0;
        Task Refused(CancellationToken _)
        {
            calls++;
            throw new HttpRequestException("Connection refused");
        }
        var running = retries.RunAsync("claim", Refused, stop.Token);
        await Eventually.TrueAsync(() => calls == 1, () => printed.ToString());

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(1, calls);

        using var abort = new CancellationTokenSource();
        var tries = 0;
        Task AbortedMidway(CancellationToken _)
        {
            tries++;
            abort.Cancel();
            throw new TaskCanceledException();
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retries.RunAsync("finish job 5", AbortedMidway, abort.Token));
        Assert.Equal(1, tries);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.Conflict, false)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, false)]
    public async Task AQueueCallIsRetriedOnA5xx408Or429AndNeverOnAnotherRefusal(HttpStatusCode status, bool retried)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(status, """{"error": "no"}"""),
            _ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 5, "status": "finished"}"""));
        var queue = new QueueClient(new HttpClient(handler) { BaseAddress = new Uri("http://queue.test") }, console, retries);

        var finishing = queue.FinishAsync(5, new FinishReport("token"), CancellationToken.None);

        if (retried)
        {
            await DriveAsync(finishing);
            Assert.Equal(2, handler.Requests.Count);
        }
        else
        {
            Assert.Equal(status, (await Assert.ThrowsAsync<QueueRejectedException>(() => finishing)).Status);
            Assert.Single(handler.Requests);
        }
    }

    /// <summary>Moves the clock on until the step is done: each pause ends at the next turn.</summary>
    private async Task DriveAsync(Task running)
    {
        for (var turn = 0; !running.IsCompleted && turn < 20_000; turn++)
        {
            time.Advance(Retries.MaxDelay);
            await Task.Delay(1);
        }
        await running;
    }

    /// <summary>The pauses the policy announced, in seconds.</summary>
    private double[] Pauses() =>
        Lines().Select(line => Regex.Match(line, @"retrying in ([\d.]+) s\.$")).Where(match => match.Success)
            .Select(match => double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private string[] Lines() => printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
