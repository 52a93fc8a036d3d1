using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// `VideoEncode.Worker watch` as a real process against the host on a real loopback port. Videos are
/// told by their extension only, so the files here are a few bytes each: nothing is encoded.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[RunsLong]
public sealed class WatchTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    private const string Profile = "h264-compatible";

    private readonly QueueFactory host = new();
    private readonly Uri server;
    private readonly HttpClient client;
    private readonly string folder = Directory.CreateTempSubdirectory("videoencode-watch-").FullName;

    public WatchTests()
    {
        server = host.StartOnLoopback();
        client = host.CreateApiClient();
    }

    public void Dispose()
    {
        host.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private WorkerProcess Watch(Uri? at = null, string settle = "0.5", params string[] extra) =>
        WorkerProcess.Start(["watch", folder, "--server", (at ?? server).ToString(), "--profile", Profile, "--settle", settle, "--rescan", "0.2", .. extra]);

    private void Write(string name, int bytes = 100)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
    }

    private async Task<Job[]> JobsWhenAsync(int count, params WorkerProcess[] watchers)
    {
        Job[] jobs = [];
        await Eventually.TrueAsync(async () => (jobs = await client.ListAsync()).Length >= count,
            () => string.Join("\n---\n", watchers.Select(watcher => watcher.Output)));
        return jobs;
    }

    /// <summary>
    /// A file written after the others and seen enqueued: by then every earlier file has been looked at
    /// in more than one rescan, so any file that was to be enqueued (or doubled) would have been.
    /// </summary>
    private async Task<Job[]> AfterOneMoreFileAsync(int countBefore, params WorkerProcess[] watchers)
    {
        Write("zz-last.mkv");
        var jobs = await JobsWhenAsync(countBefore + 1, watchers);
        Assert.Contains(jobs, job => job.FileName == "zz-last.mkv");
        return jobs;
    }

    [Fact]
    public async Task EveryVideoInTheFolderIsEnqueuedOnceWithTheProfileAndOtherFilesAreIgnored()
    {
        Write("a.mkv");
        Write("season 1/b.MP4");
        Write("notes.txt");
        Write(".hidden.mkv");
        Write("c.mkv.part");
        Write("d.mkv~");
        Write(".cache/e.mkv");

        using var watcher = Watch();

        await JobsWhenAsync(2, watcher);
        var jobs = await AfterOneMoreFileAsync(2, watcher);
        Assert.Equal(["a.mkv", "season 1/b.MP4", "zz-last.mkv"], jobs.Select(job => job.FileName).Order(StringComparer.Ordinal));
        Assert.All(jobs, job => Assert.Equal(Profile, job.Profile));
    }

    /// <summary>
    /// A copy in chunks, each pause longer than a rescan but shorter than the settle time: no job while
    /// the copy goes on (checked right before each next chunk), one job once it has ended.
    /// </summary>
    [Fact]
    public async Task AFileCopiedInSlowlyIsEnqueuedOnceAfterTheCopyEnds()
    {
        using var watcher = Watch(settle: "8");
        await Eventually.TrueAsync(() => watcher.Output.Contains("Watching"), () => watcher.Output);
        var path = Path.Combine(folder, "slow.mkv");
        for (var chunk = 0; chunk < 6; chunk++)
        {
            Assert.Empty(await client.ListAsync());
            await using (var stream = new FileStream(path, FileMode.Append))
                await stream.WriteAsync(new byte[64 * 1024]);
            await Task.Delay(TimeSpan.FromSeconds(0.6)); // the copy's own pace: three rescans see it grow
        }

        var job = Assert.Single(await JobsWhenAsync(1, watcher));
        Assert.Equal("slow.mkv", job.FileName);
        await AfterOneMoreFileAsync(1, watcher);
        Assert.Single(watcher.Output.Split('\n'), line => line.Contains("slow.mkv"));
    }

    [Fact]
    public async Task ARestartedWatcherEnqueuesNothingAgain()
    {
        Write("a.mkv");
        Write("b.mkv");
        using (var first = Watch())
        {
            await JobsWhenAsync(2, first);
            first.Signal("TERM");
            Assert.True(0 == await first.WaitForExitAsync(ExitTimeout), first.Output);
        }

        using var second = Watch();

        await Eventually.TrueAsync(() => second.Output.Split('\n').Count(line => line.Contains("was enqueued before")) == 2, () => second.Output);
        Assert.Equal(3, (await AfterOneMoreFileAsync(2, second)).Length);
    }

    [Fact]
    public async Task TwoWatchersOfOneFolderEnqueueEachFileOnce()
    {
        string[] names = ["a.mkv", "b.mkv", "c.mkv", "d.mkv"];
        foreach (var name in names) Write(name);

        using var one = Watch();
        using var two = Watch();

        // Each watcher tells of every file: enqueued by it, or before (by the other).
        foreach (var watcher in new[] { one, two })
            await Eventually.TrueAsync(() => names.All(name => watcher.Output.Contains($"Enqueued {name} as job") || watcher.Output.Contains($"{name} was enqueued before")),
                () => one.Output + "\n---\n" + two.Output);
        var jobs = await AfterOneMoreFileAsync(names.Length, one, two);
        Assert.Equal([.. names, "zz-last.mkv"], jobs.Select(job => job.FileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task FilesFoundWhileTheHostIsDownAreEnqueuedWhenItComesUp()
    {
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        var database = TestStore.NewSqlitePath();
        Write("early.mkv");
        using var watcher = Watch(address);
        await Eventually.TrueAsync(() => watcher.Output.Contains("files wait and are enqueued when the host answers"), () => watcher.Output);
        try
        {
            using var later = await HostProcess.StartAsync(address, database);
            using var laterClient = new HttpClient { BaseAddress = address };
            laterClient.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);

            Job[] jobs = [];
            await Eventually.TrueAsync(async () => (jobs = await laterClient.ListAsync()).Length == 1, () => watcher.Output);
            Assert.Equal("early.mkv", jobs[0].FileName);
            // The job is stored before the watcher has its answer: wait for the line that tells of it.
            await Eventually.TrueAsync(() => watcher.Output.Contains("Enqueued early.mkv as job"), () => watcher.Output);
            Assert.Contains("The host answers again.", watcher.Output);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    [Fact]
    public async Task JobFileNamesAreRelativeToTheInputRootAboveTheWatchedFolder()
    {
        var inbox = Path.Combine(folder, "inbox");
        Write("inbox/new.mkv");

        using var watcher = WorkerProcess.Start(["watch", inbox, "--input", folder, "--server", server.ToString(), "--profile", Profile,
            "--settle", "0.2", "--rescan", "0.2"]);

        Assert.Equal("inbox/new.mkv", (await JobsWhenAsync(1, watcher)).Single().FileName);
    }

    [Fact]
    public async Task AKeyTheHostRefusesStopsTheWatcherWithAReason()
    {
        Write("a.mkv");
        using var watcher = WorkerProcess.Start(new Dictionary<string, string> { ["VIDEOENCODE_APIKEY"] = "wrong" },
            "watch", folder, "--server", server.ToString(), "--profile", Profile, "--settle", "0.2");

        Assert.Equal(1, await watcher.WaitForExitAsync(ExitTimeout));
        Assert.Contains("error: the host answered 401", watcher.Output);
    }

    /// <summary>A profile the host does not know would refuse every file alike: the watcher stops and says why, rather than skip them all.</summary>
    [Fact]
    public async Task AProfileTheHostDoesNotKnowStopsTheWatcherWithAReason()
    {
        Write("a.mkv");
        using var watcher = WorkerProcess.Start(["watch", folder, "--server", server.ToString(), "--profile", "no-such-profile", "--settle", "0.2"]);

        Assert.Equal(1, await watcher.WaitForExitAsync(ExitTimeout));
        Assert.Contains("'no-such-profile' is not a profile", watcher.Output);
        Assert.Empty(await client.ListAsync());
    }
}
