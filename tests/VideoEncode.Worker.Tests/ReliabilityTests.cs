using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>Nothing stuck, nothing done twice: real processes killed in the middle of work.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[RunsLong]
public sealed class ReliabilityTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-reliability-").FullName;
    private readonly string input, output;

    public ReliabilityTests()
    {
        input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        output = Path.Combine(root, "output");
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task AWorkerKilledMidEncodeLosesItsLeaseAndAnotherWorkerFinishesTheJobOnce()
    {
        using var host = ShortLeaseHost(out var server);
        var client = host.CreateApiClient();
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 8, size: "640x360", rate: 25, audio: false);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "23", "slow")))[0];

        using (var doomed = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "doomed")))
        {
            await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), () => doomed.Output);
            doomed.KillHard();
        }
        using var survivor = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "survivor"));
        await Eventually.TrueAsync(async () => (await Get(client, job.Id)).Status == JobStatus.Finished, () => survivor.Output);
        survivor.Signal("TERM");
        Assert.Equal(0, await survivor.WaitForExitAsync(Patience));

        var finished = await Get(client, job.Id);
        Assert.Equal(("survivor", 2), (finished.Worker, finished.Attempts));
        Assert.Single(host.LogLines, line => line.Contains($"Job {job.Id}: in_progress -> finished"));
        Assert.Single(host.LogLines, line => line.Contains($"Job {job.Id}: in_progress -> pending via lease expiry"));
        var (codec, duration) = await TestMedia.ProbeAsync(Path.Combine(output, "clip.mp4"));
        Assert.Equal(("h264", 8.0), (codec, Math.Round(duration)));
    }

    [Fact]
    public async Task AJobResetWhileItsWorkerEncodesIsFinishedByTheNextWorkerAndTheStaleRunDeletesOnlyItsOwnFile()
    {
        using var host = new QueueFactory();
        var server = host.StartOnLoopback();
        var client = host.CreateApiClient();
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 8, audio: false);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast")))[0];
        var paced = FakeTools.RealTimeFfmpeg(root);   // each encode lasts as long as the clip

        using var stale = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "stale", "--ffmpeg", paced));
        await Eventually.TrueAsync(() => Partials().Length == 1 && Eventually.FfmpegWritingInto(Partials()[0]), () => stale.Output);
        var staleFfmpeg = Eventually.FfmpegsWritingInto(Partials()[0]).Single();
        // The first run freezes, ffmpeg and all, as on a machine that hangs: it cannot hear that its
        // claim is gone, nor finish, until the second run is writing.
        stale.Signal("STOP");
        FakeTools.Signal(staleFfmpeg, "STOP");
        using var next = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "next", "--ffmpeg", paced));
        await Eventually.TrueAsync(() => next.Output.Contains("Worker connected"), () => next.Output);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/jobs/{job.Id}/reset", null)).StatusCode);
        await Eventually.TrueAsync(() => Partials().Length == 2, () => next.Output);
        FakeTools.Signal(staleFfmpeg, "CONT");
        stale.Signal("CONT");

        await Eventually.TrueAsync(async () => (await Get(client, job.Id)).Status == JobStatus.Finished, () => stale.Output + next.Output);
        Assert.Equal("next", (await Get(client, job.Id)).Worker);
        Assert.Contains("the host no longer holds this claim", stale.Output);
        var (codec, duration) = await TestMedia.ProbeAsync(Path.Combine(output, "clip.mp4"));
        Assert.Equal(("h264", 8.0), (codec, Math.Round(duration)));
        Assert.Empty(Partials());
    }

    [Fact]
    public async Task AWorkerStartingSweepsTheTemporaryFileOfAKilledWorkerButNotThatOfALiveOne()
    {
        using var host = new QueueFactory();
        var server = host.StartOnLoopback();
        var client = host.CreateApiClient();
        // Paced encodes of a minute each: both are still running whenever the test looks.
        await TestMedia.MakeClipAsync(Path.Combine(input, "a.mkv"), 60, audio: false);
        await TestMedia.MakeClipAsync(Path.Combine(input, "b.mkv"), 60, audio: false);
        var paced = FakeTools.RealTimeFfmpeg(root);
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv", "30", "ultrafast"));
        using var killed = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "killed", "--ffmpeg", paced));
        await Eventually.TrueAsync(() => Partials().Length == 1, () => killed.Output);
        var killedFile = Partials()[0];
        await client.EnqueueAsync(QueueCalls.NewJob("b.mkv", "30", "ultrafast"));
        using var live = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--name", "live", "--ffmpeg", paced));
        await Eventually.TrueAsync(() => Partials().Length == 2, () => live.Output);
        var liveFile = Partials().Single(file => file != killedFile);

        killed.KillHard();
        await Eventually.TrueAsync(() => !Eventually.FfmpegWritingInto(killedFile), () => "the killed worker's ffmpeg still runs");
        using var starting = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--name", "starting"));
        Assert.True(0 == await starting.WaitForExitAsync(Patience), starting.Output);

        Assert.False(File.Exists(killedFile), starting.Output);
        Assert.True(File.Exists(liveFile), starting.Output);
        Assert.Contains("left by a worker that has stopped", starting.Output);
        Assert.True(Eventually.FfmpegWritingInto(liveFile));
    }

    [Fact]
    public async Task AWorkerKilledWhileFfprobeHangsTakesFfprobeWithIt()
    {
        using var host = ShortLeaseHost(out var server);
        var client = host.CreateApiClient();
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "30", "ultrafast"));
        var pidFile = Path.Combine(root, "ffprobe.pid");
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--ffprobe", FakeTools.HangingFfprobe(root, pidFile)));
        await Eventually.TrueAsync(() => FakeTools.ReadPid(pidFile) is { } pid && FakeTools.Running(pid), () => worker.Output);

        worker.KillHard();

        var ffprobe = FakeTools.ReadPid(pidFile)!.Value;
        await Eventually.TrueAsync(() => !FakeTools.Running(ffprobe), () => $"ffprobe {ffprobe} outlived its worker");
    }

    [Fact]
    public async Task CancellingARunningEncodeStopsFfmpegAndLeavesNoOutput()
    {
        using var host = ShortLeaseHost(out var server);
        var client = host.CreateApiClient();
        await TestMedia.MakeClipAsync(Path.Combine(input, "long.mkv"), 40, size: "640x360", rate: 25, audio: false);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("long.mkv", "20", "slower")))[0];
        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output));
        await Eventually.TrueAsync(() => Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), () => worker.Output);
        // The worker's heartbeats report how the encode is going.
        await Eventually.TrueAsync(async () => await Get(client, job.Id) is { Progress: > 0, Speed: > 0, EtaSeconds: not null, Worker: not null },
            () => worker.Output);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).StatusCode);
        await Eventually.TrueAsync(() => !Eventually.FfmpegWritingInto(output), () => worker.Output);

        await Eventually.TrueAsync(async () => (await Get(client, job.Id)).Status == JobStatus.Cancelled, () => worker.Output);
        Assert.Empty(Directory.GetFiles(output));
        Assert.Empty(Partials());
        worker.Signal("TERM");
        Assert.Equal(0, await worker.WaitForExitAsync(Patience));
    }

    /// <summary>
    /// The host is down for twice the lease while an encode runs, so every lease lapses meanwhile. The
    /// restarted host gives leases one lease of grace: the worker's heartbeats (or its result) get
    /// through, and the job finishes once, on its first attempt, instead of being requeued and killed.
    /// </summary>
    [Fact]
    public async Task AnEncodeOutlivesAHostOutageOfTwiceTheLeaseAndFinishesOnceOnItsFirstAttempt()
    {
        // Not the shortest lease the worker allows (3 s): the grace runs from the restarted host's start, and
        // on a machine busy with the other test projects its first answers (cold code) took 3 to 6 s — longer
        // than a 3 s grace, so the lease lapsed before the waiting finish was answered (on the commit before
        // the worker's retries moved to Polly too). 15 s leaves the worker's pause between tries of its result
        // (a third of the lease) and twice such a slow first answer inside the grace; the outage stays twice the lease.
        const int LeaseSeconds = 15;
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        var database = TestStore.NewSqlitePath();
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 12, size: "640x360", rate: 25, audio: false);
        try
        {
            var host = await HostProcess.StartAsync(address, database, ("LEASESECONDS", $"{LeaseSeconds}"));
            using var client = ApiClient(address);
            var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", "23", "slow")))[0];
            using var worker = WorkerProcess.Start(WorkerProcess.Arguments(address, input, output, "--once"));
            await Eventually.TrueAsync(() => Eventually.FfmpegWritingInto(output), () => worker.Output);

            host.KillHard();
            host.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(2 * LeaseSeconds));   // the outage: the worker's heartbeats fail meanwhile
            using var restarted = await HostProcess.StartAsync(address, database, ("LEASESECONDS", $"{LeaseSeconds}"));

            Assert.True(0 == await worker.WaitForExitAsync(Patience), worker.Output);
            var finished = await Get(client, job.Id);
            Assert.Equal((JobStatus.Finished, 1), (finished.Status, finished.Attempts));
            Assert.Null(finished.Error);
            Assert.Contains("heartbeat", worker.Output);
            Assert.Single(worker.Output.Split('\n'), line => line.Contains($"Job {job.Id}: encoding"));
            Assert.Equal(12, (await TestMedia.ProbeAsync(Path.Combine(output, "clip.mp4"))).Duration, 0.5);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    /// <summary>
    /// kill -9 the host while enqueues and claims pour in; after a restart on the same file every
    /// acknowledged enqueue and finish is there, each job is in exactly one consistent state, and
    /// every job can still be driven to the end.
    /// </summary>
    [Fact]
    public async Task KillingTheHostDuringABurstLosesNothingAcknowledged()
    {
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        var database = TestStore.NewSqlitePath();
        try
        {
            var host = await HostProcess.StartAsync(address, database, ("LEASESECONDS", "2"));
            var acknowledged = new ConcurrentBag<long>();
            var finished = new ConcurrentBag<long>();
            using var burst = new CancellationTokenSource();
            var enqueuers = Enumerable.Range(0, 4).Select(n => Task.Run(async () =>
            {
                using var http = ApiClient(address);
                for (var i = 0; !burst.IsCancellationRequested; i++)
                {
                    object[] jobs = i % 3 == 0
                        ? Enumerable.Range(0, 5).Select(k => QueueCalls.NewJob($"bulk/{n}/{i}/{k}.mkv")).ToArray()
                        : [QueueCalls.NewJob($"single/{n}/{i}.mkv")];
                    try
                    {
                        var response = await http.PostAsJsonAsync("/api/jobs", jobs, WireJson.Options);
                        if (response.StatusCode != HttpStatusCode.Created) continue;
                        foreach (var job in (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!) acknowledged.Add(job.Id);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException) { return; }
                }
            })).ToList();
            var claimers = Enumerable.Range(0, 4).Select(n => Task.Run(async () =>
            {
                using var http = ApiClient(address);
                while (!burst.IsCancellationRequested)
                {
                    try
                    {
                        var claim = await http.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest($"claimer-{n}"), WireJson.Options);
                        if (claim.StatusCode != HttpStatusCode.OK) continue;
                        var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
                        var finish = await http.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options);
                        if (finish.StatusCode == HttpStatusCode.OK) finished.Add(job.Id);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or IOException) { return; }
                }
            })).ToList();

            // Kill in the middle of real work: once a few hundred enqueues and some finishes are in
            // (a fixed delay was not enough on a machine busy with the other test projects).
            await Eventually.TrueAsync(() => acknowledged.Count >= 300 && !finished.IsEmpty, () => $"{acknowledged.Count} enqueues acknowledged");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            host.KillHard();
            host.Dispose();
            await Task.WhenAll(enqueuers.Concat(claimers));
            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} enqueues were acknowledged before the kill");
            Assert.NotEmpty(finished);

            using var restarted = await HostProcess.StartAsync(address, database, ("LEASESECONDS", "2"));
            using var client = ApiClient(address);
            var stored = await AllJobs(client);
            Assert.Equal(stored.Count, stored.Select(job => job.Id).Distinct().Count());
            var byId = stored.ToDictionary(job => job.Id);
            Assert.All(acknowledged, id => Assert.True(byId.ContainsKey(id), $"acknowledged job {id} is missing"));
            Assert.All(finished, id => Assert.Equal(JobStatus.Finished, byId[id].Status));
            Assert.All(stored, AssertConsistent);

            // Drive everything to the end: expired leases bring the interrupted claims back.
            using var patience = new CancellationTokenSource(Patience);
            await Task.WhenAll(Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
            {
                using var closer = ApiClient(address);
                while (true)
                {
                    var claim = await closer.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest($"closer-{n}", 3), WireJson.Options, patience.Token);
                    if (claim.StatusCode != HttpStatusCode.OK)
                    {
                        var counts = await closer.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/stats", patience.Token);
                        if (counts.GetProperty("counts").GetProperty(JobStatus.InProgress).GetInt64() == 0) return;
                        continue;
                    }
                    var claimedAt = System.Diagnostics.Stopwatch.StartNew();
                    var job = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options, patience.Token))!;
                    var finish = await closer.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(job.ClaimToken!), WireJson.Options, patience.Token);
                    // A stall of a second can outlast a 2 s lease (whole seconds), and the job comes back for
                    // the next claim; a refusal any sooner would be a claim given twice.
                    if (finish.StatusCode != HttpStatusCode.Conflict || claimedAt.Elapsed < TimeSpan.FromSeconds(1)) finish.EnsureSuccessStatusCode();
                }
            })));
            Assert.All(await AllJobs(client), job => Assert.Equal(JobStatus.Finished, job.Status));
            Assert.Equal(stored.Count, (await AllJobs(client)).Count);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    private static void AssertConsistent(Job job)
    {
        switch (job.Status)
        {
            case JobStatus.Pending:
                Assert.True(job.Started is null && job.Finished is null && job.LeaseExpiresAt is null, $"pending job {job.Id} carries run state");
                break;
            case JobStatus.InProgress:
                Assert.True(job.Started is not null && job.Finished is null && job.LeaseExpiresAt is not null, $"running job {job.Id} is inconsistent");
                break;
            case JobStatus.Finished:
                Assert.True(job.Started is not null && job.Finished is not null && job.LeaseExpiresAt is null, $"finished job {job.Id} is inconsistent");
                break;
            default:
                Assert.Fail($"job {job.Id} is {job.Status}, which nothing in this test could cause");
                break;
        }
    }

    private static async Task<List<Job>> AllJobs(HttpClient client)
    {
        var all = new List<Job>();
        for (var offset = 0; ; offset += 1000)
        {
            var page = await client.ListAsync($"limit=1000&offset={offset}");
            all.AddRange(page);
            if (page.Length < 1000) return all;
        }
    }

    private string[] Partials() =>
        Directory.Exists(output) ? Directory.GetFiles(output, "*.partial", SearchOption.AllDirectories) : [];

    /// <summary>
    /// A lease short enough that a killed worker's job comes back within seconds, and long enough that a live
    /// worker's beats (a third of it apart) still renew it while the other test runs load both cores.
    /// </summary>
    private QueueFactory ShortLeaseHost(out Uri server)
    {
        var host = new QueueFactory(settings: new Dictionary<string, string?> { ["LeaseSeconds"] = "6" });
        server = host.StartOnLoopback();
        return host;
    }

    private static HttpClient ApiClient(Uri address)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        return http;
    }

    private static async Task<Job> Get(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;
}
