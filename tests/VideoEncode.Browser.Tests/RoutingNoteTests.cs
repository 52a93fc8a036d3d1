using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>view-jobs says why a pending job waits when no connected worker has the encoder it needs.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RoutingNoteTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private HttpClient api = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;

    public async Task InitializeAsync()
    {
        var baseAddress = host.StartOnLoopback();
        api = host.CreateApiClient();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        page = await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    [Fact]
    public async Task APendingJobNoConnectedWorkerCanRunSaysWhichEncoderIsMissing()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("running.mkv"));
        Assert.NotNull(await api.ClaimAsync(new { worker = "cpu", encoders = new[] { EncoderCatalog.Libx264, ClaimRequest.CopyCapability } }));
        var jobs = await api.EnqueueAsync(new { file_name = "gpu-1.mkv", encoder = "hevc_nvenc", crf = 28 },
            new { file_name = "gpu-2.mkv", encoder = "hevc_nvenc", crf = 28 }, QueueCalls.NewJob("plain.mkv"));

        await page.GotoAsync("/view-jobs/");
        await page.GetByLabel("API key").FillAsync(QueueFactory.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();

        var gpuRow = page.Locator($"#rows tr[data-job-id='{jobs[1].Id}']");
        await Expect(gpuRow.Locator("td.error-text")).ToHaveTextAsync("no worker has hevc_nvenc");
        await Expect(page.Locator($"#rows tr[data-job-id='{jobs[2].Id}'] td.error-text")).ToHaveTextAsync("");
        await gpuRow.GetByRole(AriaRole.Button, new() { Name = $"Details of job {jobs[1].Id}" }).ClickAsync();
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("no worker has hevc_nvenc");
        await page.Keyboard.PressAsync("Escape");

        // A worker with NVENC connects (its claim takes the first GPU job): the second waits only for it now.
        Assert.Equal(jobs[0].Id, (await api.ClaimAsync(new { worker = "gpu", encoders = new[] { "hevc_nvenc", ClaimRequest.CopyCapability } }))!.Id);
        await page.ReloadAsync();
        await Expect(page.Locator($"#rows tr[data-job-id='{jobs[0].Id}'] td.status")).ToContainTextAsync("in progress");
        await Expect(gpuRow.Locator("td.error-text")).ToHaveTextAsync("");
    }

    /// <summary>An older worker (its claims list no encoders) runs only plain crf + preset jobs: a 10-bit libx264 job waits, and says so.</summary>
    [Fact]
    public async Task ALibx264JobWithMoreThanCrfAndPresetWaitsForAWorkerThatListsItsEncoders()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("running.mkv"));
        Assert.NotNull(await api.ClaimAsync(new { worker = "old" }));
        var jobs = await api.EnqueueAsync(new { file_name = "deep.mkv", crf = 23, preset = "fast", bit_depth = 10 }, QueueCalls.NewJob("plain.mkv"));

        await page.GotoAsync("/view-jobs/");
        await page.GetByLabel("API key").FillAsync(QueueFactory.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();

        await Expect(page.Locator($"#rows tr[data-job-id='{jobs[0].Id}'] td.error-text")).ToContainTextAsync("no worker has libx264");
        await Expect(page.Locator($"#rows tr[data-job-id='{jobs[1].Id}'] td.error-text")).ToHaveTextAsync("");
    }
}
