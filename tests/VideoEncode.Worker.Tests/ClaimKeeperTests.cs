using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>The heartbeats of a running job against a scripted host (one beat a second, on a manual clock).</summary>
public sealed class ClaimKeeperTests : IAsyncDisposable
{
    private static readonly EncodeProgress HalfWay = new(TimeSpan.FromSeconds(5), 50, 30, 2, TimeSpan.FromSeconds(3));
    private static readonly Func<HttpRequestMessage, HttpResponseMessage> Renewed =
        _ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 7, "status": "in_progress"}""");

    private readonly FakeTimeProvider time = new();
    private readonly StringWriter printed = new();
    private readonly ConsoleOutput console;

    public ClaimKeeperTests() => console = new ConsoleOutput(printed, live: false);

    public ValueTask DisposeAsync() => console.DisposeAsync();

    [Fact]
    public async Task ARefusedReportIsSentAgainAtOnceWithTheClaimAloneAndTheEncodeGoesOn()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.BadRequest, """{"error": "speed must be a number from 0 to 10000."}"""), Renewed);
        using var keeper = Keeper(handler);
        keeper.Latest = HalfWay;

        await BeatUntilAsync(() => handler.Requests.Count >= 3, () => string.Join('\n', handler.Bodies));
        await keeper.StopAsync();

        var bodies = handler.Bodies.Select(body => JsonDocument.Parse(body).RootElement).ToList();
        Assert.Equal(50, bodies[0].GetProperty("progress").GetDouble());
        Assert.Equal("t0k3n", bodies[1].GetProperty("claim_token").GetString());
        Assert.All(["progress", "speed", "eta_seconds"], name =>
            Assert.True(!bodies[1].TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null, name));
        Assert.Equal(50, bodies[2].GetProperty("progress").GetDouble());   // the next tick reports progress again
        Assert.False(keeper.Stop.IsCancellationRequested);
        Assert.Null(keeper.Interruption);
        Assert.Single(Lines(), line => line.Contains("warning: Job 7: the host refused a heartbeat's progress report (speed must be"));
    }

    [Theory]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task AStaleOrDeletedClaimStopsTheEncode(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(status, """{"error": "This claim is no longer the job's current claim"}"""));
        using var keeper = Keeper(handler);

        await BeatUntilAsync(() => keeper.Stop.IsCancellationRequested, () => string.Join('\n', handler.Requests));

        Assert.Contains("no longer the job's current claim", Assert.IsType<Interruption.ClaimLost>(keeper.Interruption).Why);
        await keeper.StopAsync();
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task ACancelRequestStopsTheEncode()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.OK, """{"id": 7, "status": "in_progress", "cancel_requested": true}"""));
        using var keeper = Keeper(handler);
        await BeatUntilAsync(() => keeper.Stop.IsCancellationRequested, () => string.Join('\n', handler.Requests));
        Assert.IsType<Interruption.CancelRequested>(keeper.Interruption);
    }

    [Fact]
    public async Task BeatsThatGetNoAnswerAreSkippedAndWarnedAboutOncePerOutage()
    {
        var handler = new ScriptedHandler(
            _ => throw new HttpRequestException("Connection refused"),
            _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            Renewed,
            _ => throw new HttpRequestException("Connection refused"),
            Renewed);
        using var keeper = Keeper(handler);

        await BeatUntilAsync(() => handler.Requests.Count >= 5, () => string.Join('\n', handler.Requests));
        await keeper.StopAsync();

        Assert.False(keeper.Stop.IsCancellationRequested);
        Assert.Equal(2, Lines().Count(line => line.Contains("warning: Job 7: could not send a heartbeat") && line.Contains("retrying")));
        Assert.Equal(2, Lines().Count(line => line.Contains("Job 7: the host answers heartbeats again.")));
    }

    [Fact]
    public async Task BeforeAResultIsPutInPlaceTheHostIsAskedOnceMoreWhetherTheClaimIsStillOurs()
    {
        var lost = new ScriptedHandler(_ => ScriptedHandler.Json(HttpStatusCode.Conflict, """{"error": "stale"}"""));
        using (var keeper = Keeper(lost))
        {
            Assert.False(await keeper.StillOursAsync());
            Assert.IsType<Interruption.ClaimLost>(keeper.Interruption);
        }
        var down = new ScriptedHandler(_ => throw new HttpRequestException("Connection refused"));
        using (var keeper = Keeper(down))
            Assert.True(await keeper.StillOursAsync());   // no answer is not a no: the finish will tell
        var renewed = new ScriptedHandler(Renewed);
        using (var keeper = Keeper(renewed))
            Assert.True(await keeper.StillOursAsync());
    }

    [Fact]
    public void ProgressOutsideTheHostsLimitsIsClampedAndNonNumbersAreLeftOut()
    {
        var wild = ClaimKeeper.Report("t", new EncodeProgress(TimeSpan.Zero, 100.0001, null, 25_000, TimeSpan.FromDays(1000)));
        Assert.Equal(new Heartbeat("t", 100, 10_000, 10_000_000), wild);

        var negative = ClaimKeeper.Report("t", new EncodeProgress(TimeSpan.Zero, -3, null, -1, TimeSpan.FromSeconds(-5)));
        Assert.Equal(new Heartbeat("t", 0, 0, 0), negative);

        Assert.Equal(new Heartbeat("t"), ClaimKeeper.Report("t", new EncodeProgress(TimeSpan.Zero, double.NaN, null, double.PositiveInfinity, null)));
        Assert.Equal(new Heartbeat("t"), ClaimKeeper.Report("t", null));
    }

    [Fact]
    public async Task NoBeatIsSentBeforeItsSecondHasPassed()
    {
        var handler = new ScriptedHandler(Renewed);
        using var keeper = Keeper(handler);

        time.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(100);
        Assert.Empty(handler.Requests);

        await BeatUntilAsync(() => handler.Requests.Count == 1, () => string.Join('\n', handler.Requests));
        await keeper.StopAsync();
    }

    private ClaimKeeper Keeper(ScriptedHandler handler)
    {
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://queue.test") };
        var job = new Job { Id = 7, ClaimToken = "t0k3n", LeaseExpiresAt = time.GetUtcNow().ToUnixTimeSeconds() + 30 };
        return new ClaimKeeper(new QueueClient(http, console), job, console, CancellationToken.None, time);
    }

    /// <summary>Moves the clock on a beat at a time until <paramref name="done"/>, within 600 beats.</summary>
    private async Task BeatUntilAsync(Func<bool> done, Func<string> describe)
    {
        for (var beat = 0; !done(); beat++)
        {
            Assert.True(beat < 600, describe());
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
    }

    private string[] Lines() => printed.ToString().Split('\n');
}
