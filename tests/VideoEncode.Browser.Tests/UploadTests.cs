using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// add-jobs uploads videos with tus-js-client to the host's media store, adds their jobs, follows them,
/// and downloads the result: real Chromium, the host on a loopback port, a real worker process with no
/// shared folder, real ffmpeg.
/// </summary>
[Collection(BrowserCollection.LongName)]
public sealed class UploadTests(BrowserFixture browser) : IAsyncLifetime
{
    // Waits that include a transfer (and, on a busy machine, Chromium reading the file) get more than Playwright's 5 s.
    private static readonly LocatorAssertionsToContainTextOptions AfterTransfer = new() { Timeout = 60_000 };
    private static readonly LocatorAssertionsToHaveAttributeOptions AfterUpload = new() { Timeout = 60_000 };
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-upload-").FullName;
    private QueueFactory? host;
    private Uri address = null!;
    private HttpClient api = null!;
    private IBrowserContext? context;
    private IPage page = null!;
    private readonly List<string> refused = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>The host (with these settings) on a loopback port, and a browser page whose key is saved.</summary>
    private async Task StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        host = new QueueFactory(settings: settings);
        address = host.StartOnLoopback();
        api = host.CreateApiClient();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString(), AcceptDownloads = true });
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
        page = await context.NewPageAsync();
        // The strict CSP must hold: nothing the page or tus-js-client does may be refused.
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) refused.Add(message.Text); };
    }

    public async Task DisposeAsync()
    {
        if (context is not null) await context.DisposeAsync();
        host?.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task ViewJobsShowsAFinishedUploadedJobsSizesAndDownloadsItsResultFromTheRow()
    {
        await StartAsync();
        var result = RandomNumberGenerator.GetBytes(25_000);
        await api.EnqueueAsync(TusCalls.StoreJob(await api.UploadAsync(RandomNumberGenerator.GetBytes(100_000), "film.mkv")));
        var claim = await api.PostAsync("/api/jobs/claim", JsonContent("""{"worker": "w", "media": "store"}"""));
        var token = JsonDocument.Parse(await claim.Content.ReadAsStringAsync()).RootElement.GetProperty("claim_token").GetString();
        var outputUpload = await api.UploadAsync(result, "film.mp4");
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/api/jobs/1/finish",
            JsonContent($$"""{"claim_token": "{{token}}", "output_upload_id": "{{outputUpload}}"}"""))).StatusCode);

        await page.SetViewportSizeAsync(1280, 900);
        await page.GotoAsync("/view-jobs/");
        var row = page.Locator("#rows tr[data-job-id='1']");
        await Expect(row).ToContainTextAsync("100.0 KB → 25.0 KB (25%)");
        var download = await page.RunAndWaitForDownloadAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Download the result of job 1" }).ClickAsync());
        Assert.Equal("film.mp4", download.SuggestedFilename);
        var saved = Path.Combine(root, "saved.mp4");
        await download.SaveAsAsync(saved);
        Assert.Equal(result, await File.ReadAllBytesAsync(saved));
        Assert.Empty(refused);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    [Fact]
    public async Task AChosenVideoIsUploadedEncodedByAWorkerWithNoSharedFolderAndItsResultDownloaded()
    {
        var clip = Path.Combine(root, "source", "holiday clip.mkv");
        await TestMedia.MakeClipAsync(clip, 2);
        await StartAsync();
        await page.GotoAsync("/add-jobs/");
        await page.GetByLabel("CRF for uploads (0–51)").FillAsync("30");
        await page.GetByLabel("Preset for uploads").SelectOptionAsync("ultrafast");
        await page.GetByLabel("Priority for uploads").FillAsync("5");

        await page.Locator("#upload-files").SetInputFilesAsync(clip);
        var row = Row("holiday clip.mkv");
        await Expect(row.Locator(".upload-progress")).ToHaveAttributeAsync("value", "100", AfterUpload);
        await Expect(row.Locator(".upload-text")).ToContainTextAsync("Uploaded: 100 %", AfterTransfer);
        await Expect(row.Locator(".job-text")).ToContainTextAsync("Job 1: pending", AfterTransfer);
        var job = await api.GetJobAsync(1);
        Assert.Equal(("holiday clip.mkv", "30", "ultrafast", 5), (job.FileName, job.Crf, job.Preset, job.Priority));
        Assert.Equal(new FileInfo(clip).Length, job.InputBytes);
        Assert.Equal(await Sha256Async(clip), job.InputSha256);

        using var worker = WorkerProcess.Start("--server", address.ToString(), "--scratch", Path.Combine(root, "scratch"), "--poll-interval", "0.2", "--once");
        await Eventually.TrueAsync(async () => (await api.GetJobAsync(1)).Status == JobStatus.Finished, () => worker.Output, TimeSpan.FromSeconds(90));
        await Expect(row.Locator(".job-text")).ToContainTextAsync("Job 1: finished");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await Expect(row.Locator(".job-text")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"— \d+\.\d KB → \d+\.\d KB, \d+\.\d× (smaller|larger)"));
        var finished = await api.GetJobAsync(1);

        var download = await page.RunAndWaitForDownloadAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Download the result" }).ClickAsync());
        Assert.Equal("holiday clip.mp4", download.SuggestedFilename);
        var saved = Path.Combine(root, "downloaded.mp4");
        await download.SaveAsAsync(saved);
        Assert.Equal(finished.OutputBytes, new FileInfo(saved).Length);
        var (codec, duration) = await TestMedia.ProbeAsync(saved);
        Assert.Equal(("h264", 2.0), (codec, Math.Round(duration)));
        Assert.Empty(refused);

        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "add-jobs-upload.png"), FullPage = true });
        await page.SetViewportSizeAsync(360, 740);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "add-jobs-upload-phone.png"), FullPage = true });
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "nothing sticks out sideways at 360 px");
    }

    [Fact]
    public async Task AVideoDroppedOnTheZoneIsUploadedAndItsJobAddedOnceEvenAfterAReload()
    {
        var clip = Path.Combine(root, "dropped.mp4");
        await TestMedia.MakeClipAsync(clip, 1);
        await StartAsync();
        await page.GotoAsync("/add-jobs/");
        await page.GetByLabel("CRF for uploads (0–51)").FillAsync("28");

        // A real drop event whose DataTransfer carries the file, as a person dragging it from their desktop makes.
        var transfer = await page.EvaluateHandleAsync("""
            bytes => {
              const transfer = new DataTransfer();
              transfer.items.add(new File([Uint8Array.from(atob(bytes), c => c.charCodeAt(0))], 'dropped.mp4', { type: 'video/mp4' }));
              return transfer;
            }
            """, Convert.ToBase64String(await File.ReadAllBytesAsync(clip)));
        await page.Locator("#drop-zone").DispatchEventAsync("dragover", new Dictionary<string, object> { ["dataTransfer"] = transfer });
        await Expect(page.Locator("#drop-zone")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bover\b"));
        await page.Locator("#drop-zone").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = transfer });

        var row = Row("dropped.mp4");
        await Expect(row.Locator(".upload-progress")).ToHaveAttributeAsync("value", "100", AfterUpload);
        await Expect(row.Locator(".job-text")).ToContainTextAsync("Job 1: pending", AfterTransfer);
        var job = await api.GetJobAsync(1);
        Assert.Equal(("dropped.mp4", "28", "medium"), (job.FileName, job.Crf, job.Preset));
        Assert.Equal(await Sha256Async(clip), job.InputSha256);

        // A reload shows the job again and follows it, and adds nothing.
        await page.ReloadAsync();
        await Expect(Row("dropped.mp4").Locator(".job-text")).ToContainTextAsync("Job 1: pending", AfterTransfer);
        Assert.Single(await api.ListAsync());
        Assert.Empty(refused);
    }

    [Fact]
    public async Task APausedUploadGoesOnAfterAReloadFromWhereTheHostStoppedAndArrivesWhole()
    {
        var file = Path.Combine(root, "x.mkv");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(30 * 1024 * 1024));
        const int chunk = 1024 * 1024, chunksBeforePause = 10;
        await StartAsync();
        await UseChunkSizeAsync(chunk);
        var uploadUrl = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await HoldPatchesFromAsync(chunksBeforePause * chunk, uploadUrl);
        await page.GotoAsync("/add-jobs/");
        await page.Locator("#upload-files").SetInputFilesAsync(file);

        var url = await uploadUrl.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await HostReachesAsync(url, chunksBeforePause * chunk);
        var row = Row("x.mkv");
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause the upload of x.mkv" }).ClickAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Resume the upload of x.mkv" })).ToBeVisibleAsync();
        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
        Assert.Equal(chunksBeforePause * chunk, await HostOffsetAsync(url));

        await page.ReloadAsync();
        var waiting = Row("x.mkv");
        await Expect(waiting.Locator(".upload-text")).ToContainTextAsync("10.5 MB of 31.5 MB (33 %) on the host. Choose or drop the same file again to resume.");
        var sent = new List<(string Method, string Url, string? Offset)>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/api/uploads", StringComparison.Ordinal))
                lock (sent) sent.Add((request.Method, request.Url, request.Headers.GetValueOrDefault("upload-offset")));
        };
        await page.Locator("#upload-files").SetInputFilesAsync(file);

        await Expect(waiting.Locator(".job-text")).ToContainTextAsync("Job 1: pending", AfterTransfer);
        lock (sent)
        {
            Assert.DoesNotContain(sent, request => request.Method == "POST"); // no new upload: the same one went on
            Assert.Equal((chunksBeforePause * chunk).ToString(CultureInfo.InvariantCulture), sent.First(request => request.Method == "PATCH").Offset);
        }
        var job = await api.GetJobAsync(1);
        Assert.Equal(url[(url.LastIndexOf('/') + 1)..], job.UploadId);
        Assert.Equal(await Sha256Async(file), job.InputSha256);
        Assert.Empty(refused);
    }

    [Fact]
    public async Task CancelDeletesTheUploadFromTheHost()
    {
        var file = Path.Combine(root, "unwanted.mkv");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(3 * 1024 * 1024));
        await StartAsync();
        await UseChunkSizeAsync(1024 * 1024);
        var uploadUrl = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await HoldPatchesFromAsync(1024 * 1024, uploadUrl);
        await page.GotoAsync("/add-jobs/");
        await page.Locator("#upload-files").SetInputFilesAsync(file);
        var url = await uploadUrl.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await HostReachesAsync(url, 1024 * 1024);

        await Row("unwanted.mkv").GetByRole(AriaRole.Button, new() { Name = "Cancel the upload of unwanted.mkv" }).ClickAsync();
        await Expect(Row("unwanted.mkv")).ToHaveCountAsync(0);
        Assert.Null(await HostOffsetAsync(url));
        Assert.Equal("[]", await page.EvaluateAsync<string>("localStorage.getItem('videoEncodeUploads')"));
        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
    }

    [Fact]
    public async Task AFileLargerThanTheHostTakesIsRefusedWithTheHostsReason()
    {
        await StartAsync(new Dictionary<string, string?> { ["MaxUploadBytes"] = "1000" });
        var file = Path.Combine(root, "big.mkv");
        await File.WriteAllBytesAsync(file, new byte[5000]);
        await page.GotoAsync("/add-jobs/");
        await page.Locator("#upload-files").SetInputFilesAsync(file);

        var row = Row("big.mkv");
        await Expect(row.Locator(".upload-error")).ToContainTextAsync("The upload stopped: the file is too large for this host (Upload-Length 5000 is more than this host takes: 1000 bytes");
        Assert.Empty(await api.ListAsync());
    }

    [Fact]
    public async Task AnUploadWithAProfileChosenBecomesAJobWithTheProfilesSettings()
    {
        var file = Path.Combine(root, "concert.mkv");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(50_000));
        await StartAsync();
        await page.GotoAsync("/add-jobs/");
        await page.GetByLabel("Profile for uploads").SelectOptionAsync("hevc-library");
        await page.GetByLabel("Preset for uploads").SelectOptionAsync("slow");
        await page.Locator("#upload-files").SetInputFilesAsync(file);

        var row = Row("concert.mkv");
        await Expect(row.Locator(".upload-settings")).ToHaveTextAsync("profile hevc-library · slow · priority 0");
        await Expect(row.Locator(".job-text")).ToContainTextAsync("Job 1: pending", AfterTransfer);
        var job = await api.GetJobAsync(1);
        Assert.Equal("hevc-library", job.Profile);
        Assert.Equal(("libx265", "24", "slow", Containers.Mkv), (job.Settings!.Encoder, job.Settings.Crf, job.Settings.Preset, job.Settings.Container));
        Assert.Empty(refused);
    }

    private ILocator Row(string name) => page.Locator($"#uploads li[data-name='{name}']");

    /// <summary>Serves the page's upload settings with a smaller chunk, so a test file of a few MB spans several PATCHes.</summary>
    private async Task UseChunkSizeAsync(int bytes) =>
        await page.RouteAsync("**/add-jobs/upload-settings.js", async route =>
        {
            using var response = await api.GetAsync("/add-jobs/upload-settings.js");
            var text = await response.Content.ReadAsStringAsync();
            var changed = System.Text.RegularExpressions.Regex.Replace(text, @"CHUNK_BYTES = [^;]+;", $"CHUNK_BYTES = {bytes};");
            Assert.NotEqual(text, changed);
            await route.FulfillAsync(new() { Body = changed, ContentType = "text/javascript" });
        });

    /// <summary>
    /// Lets every PATCH that starts before <paramref name="offset"/> through (retries included) and holds, never answered,
    /// those from there on, so a pause or cancel comes at a known point. The upload's URL is told on the first PATCH.
    /// </summary>
    private Task HoldPatchesFromAsync(long offset, TaskCompletionSource<string> uploadUrl) =>
        page.RouteAsync("**/api/uploads/*", async route =>
        {
            if (route.Request.Method != "PATCH")
            {
                await route.ContinueAsync();
                return;
            }
            uploadUrl.TrySetResult(route.Request.Url);
            if (long.Parse(route.Request.Headers["upload-offset"], CultureInfo.InvariantCulture) < offset) await route.ContinueAsync();
        });

    private async Task HostReachesAsync(string url, long offset)
    {
        long? seen = null;
        await Eventually.TrueAsync(async () => (seen = await HostOffsetAsync(url)) == offset, () => $"The host holds {seen} bytes, not {offset}.");
    }

    /// <summary>Upload-Offset as the host answers HEAD, or null when it has no such upload.</summary>
    private async Task<long?> HostOffsetAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(url).PathAndQuery);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        using var response = await api.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
    }

    private static async Task<string> Sha256Async(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }
}
