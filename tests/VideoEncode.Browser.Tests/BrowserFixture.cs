using Microsoft.Playwright;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// One headless Debian Chromium for each browser collection, driven by Playwright (never "playwright
/// install": there are no downloads here). Each test gets a fresh context: no shared storage.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots go to the test output folder, where a person can look at them.</summary>
    public static string ScreenshotFolder { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        // The other test projects run beside these on two cores: Playwright's 5 s default for an
        // expectation is too little for a page that waits on a busy host. A met expectation returns at once.
        Assertions.SetDefaultExpectTimeout(15_000);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright?.Dispose();
    }
}

/// <summary>
/// The browser tests run in two collections side by side, each with a Chromium of its own: the pages'
/// quick checks, and the tests that wait on workers, encodes and many jobs (started first).
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
    public const string LongName = "browser, with workers and many jobs";
}

[CollectionDefinition(BrowserCollection.LongName)]
[RunsLong]
public sealed class LongBrowserCollection : ICollectionFixture<BrowserFixture>;
