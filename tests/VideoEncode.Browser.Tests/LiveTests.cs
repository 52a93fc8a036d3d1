using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// view-jobs follows the host's event stream while a real worker encodes. The worker's ffmpeg encodes at the
/// clip's own pace (<see cref="FakeTools.RealTimeFfmpeg"/>), so an encode lasts as long as its clip on any
/// machine: a quiet one encodes these clips in about a second, before the page has seen them run.
/// </summary>
[Collection(BrowserCollection.LongName)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LiveTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private readonly string media = Directory.CreateTempSubdirectory("videoencode-live-").FullName;
    private Uri address = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;

    public async Task InitializeAsync()
    {
        address = host.StartOnLoopback();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString(), ViewportSize = new() { Width = 1280, Height = 720 } });
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
        page = await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
        Directory.Delete(media, recursive: true);
    }

    [Fact]
    public async Task AJobsProgressBarMovesAndItsRowTurnsFinishedWithoutAReload()
    {
        var input = Directory.CreateDirectory(Path.Combine(media, "input")).FullName;
        await TestMedia.MakeClipAsync(Path.Combine(input, "movie.mkv"), 10, size: "640x360", rate: 25, audio: false);
        var api = host.CreateApiClient();
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("movie.mkv", "20", "slow")))[0];

        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await page.EvaluateAsync("window.__notReloaded = true");
        var row = page.Locator($"#rows tr[data-job-id='{job.Id}']");
        await Expect(row).ToContainTextAsync("pending");

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(address, input, Path.Combine(media, "output"), "--once", "--name", "render-box",
            "--ffmpeg", FakeTools.RealTimeFfmpeg(media)));
        var bar = row.Locator("progress");
        await Expect(bar).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var early = await bar.EvaluateAsync<double>("p => p.value");
        await Expect(row).ToContainTextAsync("render-box");
        await Expect(page.Locator("#dash-running")).ToHaveTextAsync("1");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "operations.png") });
        await page.WaitForFunctionAsync($"v => Number(document.querySelector(\"#rows tr[data-job-id='{job.Id}'] progress\")?.value ?? 100) > v", early,
            new() { Timeout = 30_000 });

        await Expect(row).ToContainTextAsync("finished", new() { Timeout = 60_000 });
        Assert.True(await page.EvaluateAsync<bool>("window.__notReloaded === true"), "the page reloaded");
        await Expect(page.Locator("#dash-finished-hour")).ToHaveTextAsync("1");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task TheWorkersPanelShowsARealWorkersRunningJobWithProgressAndThenItsFinish()
    {
        var input = Directory.CreateDirectory(Path.Combine(media, "input")).FullName;
        // Ten seconds of encoding: several of the panel's once-a-second refreshes see it running.
        await TestMedia.MakeClipAsync(Path.Combine(input, "feature.mkv"), 10, size: "640x360", rate: 25, audio: false);
        // A worker of another version than the host's holds a job meanwhile: its version is marked.
        var api = host.CreateApiClient();
        await api.EnqueueAsync(QueueCalls.NewJob("elsewhere.mkv"));
        using (var claim = new HttpRequestMessage(HttpMethod.Post, "/api/jobs/claim") { Content = System.Net.Http.Json.JsonContent.Create(new { worker = "old-box" }) })
        {
            claim.Headers.Add(Versions.WorkerHeader, $"old-box/0.1.0/{Versions.Protocol}");
            Assert.True((await api.SendAsync(claim)).IsSuccessStatusCode);
        }
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("feature.mkv", "20", "slow")))[0];
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#workers tr[data-worker='old-box'] .version-differs")).ToHaveTextAsync("v0.1.0 ≠ host");
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");

        using var worker = WorkerProcess.Start(WorkerProcess.Arguments(address, input, Path.Combine(media, "output"), "--once", "--name", "render-box",
            "--ffmpeg", FakeTools.RealTimeFfmpeg(media)));
        var row = page.Locator("#workers tr[data-worker='render-box']");
        await Expect(row.Locator($".running-job[data-job-id='{job.Id}']")).ToContainTextAsync($"feature.mkv #{job.Id}", new() { Timeout = 30_000 });
        await Expect(row).ToContainTextAsync("online");
        await Expect(row.Locator(".worker-version")).ToHaveTextAsync($"v{Versions.Product}");
        await Expect(row.Locator(".version-differs")).ToHaveCountAsync(0);
        var bar = row.GetByRole(AriaRole.Progressbar, new() { Name = $"Job {job.Id} progress on render-box" });
        await Expect(bar).ToBeVisibleAsync(new() { Timeout = 30_000 });

        await Expect(row).ToContainTextAsync("1 / 0", new() { Timeout = 60_000 });
        await Expect(row).ToContainTextAsync("idle");
        await Expect(page.Locator("#throughput")).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^Last hour: 1 finished, 0 failed"));
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task ARowOpensTheJobsDetailWithItsLogAndAllowedActions()
    {
        var api = host.CreateApiClient();
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("broken.avi")))[0];
        var claim = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(api, "/api/jobs/claim", new ClaimRequest("box"), WireJson.Options);
        var claimed = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Job>(claim.Content, WireJson.Options))!;
        await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(api, $"/api/jobs/{job.Id}/fail",
            new FailureReport("ffmpeg exited with code 1: moov atom not found", "[mov] moov atom not found", claimed.ClaimToken), WireJson.Options);

        await page.GotoAsync("/view-jobs/");
        await page.Locator($"#rows tr[data-job-id='{job.Id}'] td.file").ClickAsync();
        var detail = page.Locator("#detail");
        await Expect(detail).ToBeVisibleAsync();
        await Expect(detail).ToContainTextAsync("Job 1");
        await Expect(detail).ToContainTextAsync("1 of 3");
        await Expect(detail).ToContainTextAsync("box");
        await Expect(detail.Locator("pre")).ToHaveTextAsync("[mov] moov atom not found");
        await Expect(detail.GetByRole(AriaRole.Button, new() { Name = "Retry job 1" })).ToBeVisibleAsync();
        Assert.Equal(0, await detail.GetByRole(AriaRole.Button, new() { Name = "Cancel job 1" }).CountAsync());

        await detail.GetByRole(AriaRole.Button, new() { Name = "Retry job 1" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.Locator($"#rows tr[data-job-id='{job.Id}']")).ToContainTextAsync("pending");
    }
}
