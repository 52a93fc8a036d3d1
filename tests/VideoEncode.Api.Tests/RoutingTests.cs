using System.Net;
using System.Net.Http.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Routing by capability: a claim gets only jobs whose encoder it lists, a claim listing none only the
/// jobs any worker can run (libx264 of crf and preset), and a long-polling claim that cannot run a new
/// job does not keep its wake from one that can.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class RoutingTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly QueueFactory host = new();

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task AClaimListingNoEncodersNeverGetsAJobThatNeedsOne()
    {
        var client = host.CreateApiClient();
        await Enqueue("hevc.mkv", "hevc_nvenc", priority: 10);
        await Enqueue("ten-bit.mkv", EncoderCatalog.Libx264, priority: 10, bitDepth: 10);
        var legacy = (await client.EnqueueAsync(QueueCalls.NewJob("plain.mkv")))[0];

        var original = await client.GetFromJsonAsync<Job>("/api/jobs/claim", WireJson.Options); // the original service's route
        Assert.Equal(legacy.Id, original!.Id);
        await client.EnqueueAsync(QueueCalls.NewJob("plain-2.mkv"));
        Assert.Equal("plain-2.mkv", (await client.ClaimAsync(new { worker = "old" }))!.FileName);
        Assert.Null(await client.ClaimAsync(new { worker = "old" }));
        Assert.Null(await client.ClaimAsync());
    }

    [Fact]
    public async Task AClaimListingLibx264GetsPlainAndLibx264JobsAndNoOthers()
    {
        var client = host.CreateApiClient();
        await Enqueue("nvenc.mkv", "hevc_nvenc", priority: 10);
        await Enqueue("copy.mkv", null, priority: 10);
        var plain = (await client.EnqueueAsync(QueueCalls.NewJob("plain.mkv")))[0];
        var tenBit = await Enqueue("ten-bit.mkv", EncoderCatalog.Libx264, bitDepth: 10);

        var claim = new { worker = "cpu", encoders = new[] { EncoderCatalog.Libx264 } };
        Assert.Equal(plain.Id, (await client.ClaimAsync(claim))!.Id);
        Assert.Equal(tenBit.Id, (await client.ClaimAsync(claim))!.Id);
        Assert.Null(await client.ClaimAsync(claim));
    }

    [Fact]
    public async Task AClaimWithoutLibx264GetsOnlyTheJobsNeedingWhatItLists()
    {
        var client = host.CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("plain.mkv"));
        await Enqueue("ten-bit.mkv", EncoderCatalog.Libx264, bitDepth: 10);
        await Enqueue("h264.mkv", "h264_nvenc");
        var hevc = await Enqueue("hevc.mkv", "hevc_nvenc");
        var copy = await Enqueue("copy.mkv", null);

        var claim = new { worker = "gpu", encoders = new[] { "hevc_nvenc", ClaimRequest.CopyCapability } };
        Assert.Equal(hevc.Id, (await client.ClaimAsync(claim))!.Id);
        Assert.Equal(copy.Id, (await client.ClaimAsync(claim))!.Id);
        Assert.Null(await client.ClaimAsync(claim));
    }

    [Fact]
    public async Task RunnableJobsAreClaimedHighestPriorityFirstThenOldest()
    {
        var client = host.CreateApiClient();
        await Enqueue("av1-urgent.mkv", "libsvtav1", priority: 20);
        var hevcLow = await Enqueue("hevc-low.mkv", "libx265", priority: 1);
        var plainHigh = (await client.EnqueueAsync(new { file_name = "plain-high.mkv", crf = "23", preset = "fast", priority = 5 }))[0];
        var hevcHigh = await Enqueue("hevc-high.mkv", "libx265", priority: 5);
        var plainLow = (await client.EnqueueAsync(new { file_name = "plain-low.mkv", crf = "23", preset = "fast", priority = 1 }))[0];

        var claim = new { worker = "cpu", encoders = new[] { EncoderCatalog.Libx264, "libx265" } };
        var order = new List<long>();
        while (await client.ClaimAsync(claim) is { } job) order.Add(job.Id);

        Assert.Equal([plainHigh.Id, hevcHigh.Id, hevcLow.Id, plainLow.Id], order);
    }

    [Theory]
    [InlineData("\"libx264\"")]
    [InlineData("[]")]
    [InlineData("[\"libx264\", \"libx999\"]")]
    [InlineData("[\"LIBX264\"]")]
    [InlineData("[\"libx264\", 7]")]
    [InlineData("[\"_\"]")]
    public async Task AClaimWithBadEncodersIsRefusedNamingTheField(string encoders)
    {
        var response = await host.CreateApiClient().PostAsync("/api/jobs/claim",
            new StringContent($"{{\"worker\": \"w\", \"encoders\": {encoders}}}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("encoders", body.RootElement.GetProperty("field").GetString());
        Assert.Contains("encoders must be", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AClaimListingTooManyEncodersIsRefused()
    {
        var tooMany = Enumerable.Repeat(EncoderCatalog.Libx264, ClaimRequest.MaxEncoders + 1).ToArray();
        var response = await host.CreateApiClient().PostAsJsonAsync("/api/jobs/claim", new { encoders = tooMany });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TheWorkersListShowsTheEncodersOfEachWorkersLastClaim()
    {
        var client = host.CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"));
        await client.ClaimAsync(new { worker = "cpu", encoders = new[] { EncoderCatalog.Libx264, "libx265", ClaimRequest.CopyCapability } });
        await client.ClaimAsync(new { worker = "old" });

        var workers = (await client.GetFromJsonAsync<WorkerInfo[]>("/api/workers", WireJson.Options))!.ToDictionary(worker => worker.Name);
        Assert.Equal([EncoderCatalog.Libx264, "libx265", ClaimRequest.CopyCapability], workers["cpu"].Encoders);
        Assert.Null(workers["old"].Encoders);
    }

    /// <summary>
    /// Two workers wait, the libx264 one first in line. A job only the GPU worker can run must reach it
    /// at once, not sit until the libx264 worker's wait runs out; and the next plain job goes to the
    /// libx264 worker, which is still waiting.
    /// </summary>
    [Fact]
    public async Task AWaitingClaimThatCannotRunANewJobDoesNotSwallowTheWakeOfOneThatCan()
    {
        var waiters = host.GetService<ClaimWaiters>();
        var cpu = LongPoll(new { worker = "cpu", wait = 50, media = MediaKinds.Any, encoders = new[] { EncoderCatalog.Libx264 } });
        await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");
        var gpu = LongPoll(new { worker = "gpu", wait = 50, media = MediaKinds.Any, encoders = new[] { "hevc_nvenc", ClaimRequest.CopyCapability } });
        await Eventually.TrueAsync(() => waiters.Count == 2, () => $"{waiters.Count} waiting");

        var hevc = await Enqueue("hevc.mkv", "hevc_nvenc");
        Assert.Equal(hevc.Id, (await ReadJob(await gpu.WaitAsync(Patience))).Id);
        await Eventually.TrueAsync(() => waiters.Count == 1, () => $"{waiters.Count} waiting");
        Assert.False(cpu.IsCompleted);

        var plain = (await host.CreateApiClient().EnqueueAsync(QueueCalls.NewJob("plain.mkv")))[0];
        Assert.Equal(plain.Id, (await ReadJob(await cpu.WaitAsync(Patience))).Id);
    }

    [Fact]
    public void WaitersListingTheSameEncodersInAnyOrderShareALineAndOthersGetTheirOwnWake()
    {
        var waiters = new ClaimWaiters();
        using var first = waiters.Enter(MediaKinds.Any, [EncoderCatalog.Libx264, "libx265"]);
        using var sameKind = waiters.Enter(MediaKinds.Any, ["libx265", EncoderCatalog.Libx264]);
        using var gpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc"]);
        using var old = waiters.Enter(MediaKinds.Any);

        waiters.Wake(1);

        Assert.True(first.Woken.IsCompleted);
        Assert.False(sameKind.Woken.IsCompleted);
        Assert.True(gpu.Woken.IsCompleted);
        Assert.True(old.Woken.IsCompleted);

        // An emptied line goes; a wake not spent still reaches whoever waits in its place now.
        gpu.Dispose();
        using var nextGpu = waiters.Enter(MediaKinds.Any, ["hevc_nvenc"]);
        first.Dispose();
        Assert.True(sameKind.Woken.IsCompleted);
        Assert.False(nextGpu.Woken.IsCompleted);
    }

    /// <summary>A job needing <paramref name="encoder"/> (null: a stream copy), enqueued as any client does.</summary>
    private async Task<Job> Enqueue(string fileName, string? encoder, int priority = 0, int bitDepth = 8)
    {
        object job = encoder is null
            ? new { file_name = fileName, video_codec = VideoCodecs.Copy, audio = AudioCodecs.Copy, priority }
            : new { file_name = fileName, encoder, crf = 23, bit_depth = bitDepth, priority };
        return (await host.CreateApiClient().EnqueueAsync(job)).Single();
    }

    private Task<HttpResponseMessage> LongPoll(object body) =>
        Task.Run(() => host.CreateApiClient().PostAsJsonAsync("/api/jobs/claim", body));

    private static async Task<Job> ReadJob(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }
}
