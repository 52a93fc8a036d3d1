using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// The README's pictures of view-jobs, from a seeded queue: desktop and phone width. scripts/screenshots.sh
/// runs this with VIDEOENCODE_SCREENSHOTS set to docs/; otherwise they go to the test output folder.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DocsScreenshotTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private IBrowserContext context = null!;
    private Uri address = null!;

    private static string Folder => Environment.GetEnvironmentVariable("VIDEOENCODE_SCREENSHOTS") is { Length: > 0 } folder
        ? Directory.CreateDirectory(folder).FullName
        : BrowserFixture.ScreenshotFolder;

    public async Task InitializeAsync()
    {
        address = host.StartOnLoopback();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString() });
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    [Fact]
    public async Task ViewJobsAtDesktopAndPhoneWidth()
    {
        var api = host.CreateApiClient();
        string[] shows = ["The Expanse", "Planet Earth II", "Cosmos", "Chernobyl", "Dark", "Severance"];
        await api.EnqueueAsync(Enumerable.Range(0, 39).Select(i => (object)new
        {
            file_name = $"shows/{shows[i % shows.Length]}/S01E{i / shows.Length + 1:00} {(i % 3 == 0 ? "Remastered " : "")}1080p.mkv",
            crf = i % 4 == 0 ? "20" : "23",
            preset = i % 5 == 0 ? "slow" : "medium",
            priority = i % 7 == 0 ? 5 : 0,
        }).ToArray());
        await api.FinishNextAsync(14, "encoder-a");
        await api.FinishNextAsync(9, "encoder-b");
        await api.FailNextAsync(3, "ffmpeg exited with code 1: moov atom not found (the file is truncated)");
        await api.RunNextAsync("encoder-a", 63.5);
        await api.RunNextAsync("encoder-b", 18);

        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1400, 900);
        await page.GotoAsync("/view-jobs/?size=25");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(25);
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await page.Locator("#rows tr[data-job-id='37'] input[type='checkbox']").CheckAsync();
        await page.Locator("#rows tr[data-job-id='36'] input[type='checkbox']").CheckAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Folder, "view-jobs-desktop.png"), FullPage = true });

        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/view-jobs/?status=failed");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(3);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Folder, "view-jobs-phone.png"), FullPage = true });

        foreach (var name in new[] { "view-jobs-desktop", "view-jobs-phone" })
            Assert.True(new FileInfo(Path.Combine(Folder, name + ".png")).Length > 10_000);
    }
}
