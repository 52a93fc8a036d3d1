using System.Net;
using System.Net.Http.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
/// <summary>A paused queue and a drained worker, with the host on a real loopback port, the worker as a real process and real ffmpeg.</summary>
public sealed class PauseAndDrainTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    private readonly QueueFactory host = new();
    private readonly Uri server;
    private readonly HttpClient client;
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-worker-").FullName;
    private readonly string input, output;

    public PauseAndDrainTests()
    {
        server = host.StartOnLoopback();
        client = host.CreateApiClient();
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
    }

    public void Dispose()
    {
        host.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task ADrainedWorkerFinishesItsJobClaimsNoMoreAndExitsWithZero()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "long.mkv"), 20, size: "640x360", rate: 25, audio: false);
        await TestMedia.MakeClipAsync(Path.Combine(input, "next.mkv"), 1);
        var running = (await client.EnqueueAsync(QueueCalls.NewJob("long.mkv", "20", "slower")))[0];
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "maintenance-box"));
        await Eventually.TrueAsync(async () => (await Get(running.Id)).Status == JobStatus.InProgress, () => worker.Output);
        var next = (await client.EnqueueAsync(QueueCalls.NewJob("next.mkv", "30", "ultrafast")))[0];

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/workers/maintenance-box/drain", null)).StatusCode);

        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
        Assert.Equal(JobStatus.Finished, (await Get(running.Id)).Status);
        Assert.True(File.Exists(Path.Combine(output, "long.mp4")));
        Assert.Equal(JobStatus.Pending, (await Get(next.Id)).Status);
        Assert.Single(worker.Output.Split('\n'), line => line.Contains("The host is draining this worker"));
    }

    [Fact]
    public async Task APausedQueueGivesARealWorkerNothingUntilResumed()
    {
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        (await client.PostAsync("/api/queue/pause", null)).EnsureSuccessStatusCode();
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast")))[0];
        var waiters = host.GetService<ClaimWaiters>();

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output));
        // The worker's claim found the queue paused and waits in a long poll.
        await Eventually.TrueAsync(() => waiters.Count == 1, () => worker.Output);
        Assert.Equal(JobStatus.Pending, (await Get(job.Id)).Status);

        (await client.PostAsync("/api/queue/resume", null)).EnsureSuccessStatusCode();

        await Eventually.TrueAsync(async () => (await Get(job.Id)).Status == JobStatus.Finished, () => worker.Output);
        Assert.True(File.Exists(Path.Combine(output, "clip.mp4")));
        worker.Signal("TERM");
        Assert.True(0 == await worker.WaitForExitAsync(ExitTimeout), worker.Output);
    }

    private async Task<Job> Get(long id) => (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
