using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>view-jobs for a big queue: search, bulk actions, nothing clipped at any width, a refused key on the live stream.</summary>
[Collection(BrowserCollection.Name)]
public sealed class FarmScaleTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private HttpClient api = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;

    public async Task InitializeAsync()
    {
        var address = host.StartOnLoopback();
        api = host.CreateApiClient();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        page = await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    private Task UseKeyAsync(string key) => context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{key}')");

    [Fact]
    public async Task TheSearchBoxFindsOneJobAmongTenThousandAndTheAddressKeepsIt()
    {
        await api.EnqueueAsync(Enumerable.Range(1, 10_000)
            .Select(i => QueueCalls.NewJob(i == 4321 ? "archive/Needle in a haystack.mkv" : $"shows/episode {i:00000}.mkv")).ToArray());
        await UseKeyAsync(QueueFactory.ApiKey);
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 1 of 200 · 10000 jobs");

        await page.Locator("#search").PressSequentiallyAsync("NEEDLE");

        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("archive/Needle in a haystack.mkv");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 1 of 1 · 1 match");
        Assert.Contains("q=NEEDLE", page.Url);

        await page.Locator("#sort").SelectOptionAsync("oldest");
        await page.GotoAsync(page.Url); // a bookmark of this view
        await Expect(page.Locator("#search")).ToHaveValueAsync("NEEDLE");
        await Expect(page.Locator("#sort")).ToHaveValueAsync("oldest");
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("Needle in a haystack");
    }

    [Fact]
    public async Task FiftyFailedJobsAreRetriedWithOneActionAndOneConfirmation()
    {
        await api.EnqueueAsync(Enumerable.Range(1, 50).Select(i => QueueCalls.NewJob($"broken/{i}.avi")).ToArray());
        await api.FailNextAsync(50);
        var bulkRequests = 0;
        page.Request += (_, request) => { if (request.Url.EndsWith("/api/jobs/bulk")) bulkRequests++; };
        await UseKeyAsync(QueueFactory.ApiKey);
        await page.GotoAsync("/view-jobs/?status=failed");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(50);

        await page.GetByLabel("Select all jobs on this page").CheckAsync();
        await Expect(page.Locator("#bulk-count")).ToHaveTextAsync("50 jobs selected.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry selected jobs" }).ClickAsync();
        await Expect(page.Locator("#confirm-text")).ToHaveTextAsync("Retry 50 jobs?");
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Retry 50 jobs" }).ClickAsync();

        await Expect(page.Locator("#action-message")).ToHaveTextAsync("Retry: 50 jobs changed.");
        await Expect(page.Locator("#rows")).ToContainTextAsync("No jobs here.");
        Assert.All(await api.ListAsync(), job => Assert.Equal(JobStatus.Pending, job.Status));
        Assert.Equal(1, bulkRequests);
    }

    [Fact]
    public async Task AllThatMatchReachesJobsOnOtherPagesAndSkippedOnesAreNamed()
    {
        await api.EnqueueAsync(Enumerable.Range(1, 30).Select(i => QueueCalls.NewJob($"batch/{i}.mkv")).Append(QueueCalls.NewJob("other.mkv")).ToArray());
        await api.ClaimAsAsync("box"); // batch/1.mkv runs, so a delete leaves it
        await UseKeyAsync(QueueFactory.ApiKey);
        await page.GotoAsync("/view-jobs/?size=25");
        await page.Locator("#search").FillAsync("batch/");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 1 · matches 1–25 of more");

        await page.GetByLabel("Select all jobs on this page").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Select every job that matches" }).ClickAsync();
        await Expect(page.Locator("#bulk-count")).ToHaveTextAsync("Selected every job matching “batch/”.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete selected jobs" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Delete every job matching “batch/”" }).ClickAsync();

        await Expect(page.Locator("#action-message")).ToHaveTextAsync("Delete: 29 jobs changed; 1 skipped (running jobs cannot be deleted; cancel them first).");
        Assert.Equal(["other.mkv", "batch/1.mkv"], (await api.ListAsync()).Select(job => job.FileName));
    }

    [Theory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    public async Task NoActionButtonIsOutsideItsTableAndEachJobIsOneLine(int width, int height)
    {
        const string longName = "a very long folder name for a season of a show/and another folder inside it/Episode 01 - The one with the very long title.mkv";
        await api.EnqueueAsync(QueueCalls.NewJob("finished/" + longName), QueueCalls.NewJob("failed/" + longName), QueueCalls.NewJob("running/" + longName),
            QueueCalls.NewJob(longName), QueueCalls.NewJob("waiting/" + longName));
        await api.FinishNextAsync(1, "a-worker-with-a-rather-long-host-name.example.internal");
        await api.FailNextAsync(1, "The input file does not exist in the input folder, nor anywhere else the worker looked for it.");
        await api.RunNextAsync("render-box", 42.5);
        await page.SetViewportSizeAsync(width, height);
        await UseKeyAsync(QueueFactory.ApiKey);
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(5);
        await Expect(page.Locator("#workers tr")).ToHaveCountAsync(3);

        var outside = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('.table-wrap')].flatMap(wrap => {
              const box = wrap.getBoundingClientRect();
              const clipped = wrap.scrollWidth > wrap.clientWidth ? ['a table scrolls sideways'] : [];
              return clipped.concat([...wrap.querySelectorAll('button')].filter(button => button.offsetParent !== null).filter(button => {
                const b = button.getBoundingClientRect();
                return b.left < box.left - 0.5 || b.right > box.right + 0.5 || b.top < box.top - 0.5 || b.bottom > box.bottom + 0.5;
              }).map(button => button.getAttribute('aria-label') || button.textContent));
            })
            """);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"clipping-{width}.png"), FullPage = true });
        Assert.Empty(outside);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways");
        var heights = await page.Locator("#rows tr").EvaluateAllAsync<double[]>("rows => rows.map(row => row.getBoundingClientRect().height)");
        var line = await page.Locator("#rows td.id").First.EvaluateAsync<double>("cell => parseFloat(getComputedStyle(cell).lineHeight)");
        Assert.All(heights, rowHeight => Assert.True(rowHeight < 2 * line + 16, $"a row is {rowHeight}px high: more than one line of {line}px"));

        // Every action stays reachable: inline at desktop width, behind each row's menu on a phone.
        var runningRow = page.Locator("#rows tr[data-job-id='3']");
        await Expect(runningRow).ToContainTextAsync("in progress");
        if (width < 1000)
        {
            await runningRow.GetByRole(AriaRole.Button, new() { Name = "Actions for job 3" }).ClickAsync();
            await Expect(page.Locator("#detail").GetByRole(AriaRole.Button, new() { Name = "Delete job 3" })).ToBeVisibleAsync();
        }
        else
        {
            await Expect(runningRow.GetByRole(AriaRole.Button, new() { Name = "Delete job 3" })).ToBeVisibleAsync();
        }
    }

    [Fact]
    public async Task AWrongKeyStopsTheLiveStreamWithAMessageAndTheRightKeyStartsIt()
    {
        await UseKeyAsync("not-the-key");
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live updates stopped: the host rejected the API key. Save the right key above.");
        await Expect(page.Locator("#key-status")).ToContainTextAsync("The host rejected this API key");

        await page.GetByLabel("API key").FillAsync(QueueFactory.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("arrives live.mkv")))[0];
        await Expect(page.Locator($"#rows tr[data-job-id='{job.Id}']")).ToContainTextAsync("arrives live.mkv");
    }
}
