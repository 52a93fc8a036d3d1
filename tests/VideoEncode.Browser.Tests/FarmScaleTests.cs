using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>view-jobs for a big queue: search, bulk actions, nothing clipped at any width, library names and seven-digit ids, a refused key on the live stream.</summary>
[Collection(BrowserCollection.LongName)]
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
        await Expect(page.Locator("#rows tr td.file")).ToHaveAttributeAsync("title", "archive/Needle in a haystack.mkv → archive/Needle in a haystack.mp4");
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
    public async Task NoActionButtonIsOutsideItsTableAndEachJobIsOneLineOrTwoOnAPhone(int width, int height)
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
        // On a phone (below 48rem) the name has the row's first line, its id, status and folder the second.
        var lines = width < 768 ? 2 : 1;
        Assert.All(heights, rowHeight => Assert.True(rowHeight < (lines + 1) * line + 16, $"a row is {rowHeight}px high: more than {lines} lines of {line}px"));

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

    [Theory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    [InlineData(360, 740)]
    public async Task ALibraryJobShowsItsOwnFileNameInFullThenItsFolderAndSevenDigitIdsFit(int width, int height)
    {
        // Ids as a farm has them after millions of jobs; names as a media library has them, where only the end tells jobs apart.
        await host.NumberNextJobAsync(9_999_991);
        const string season1 = "library/Some Show Name/Season 01/";
        var jobs = await api.EnqueueAsync(QueueCalls.NewJob(season1 + "show-9981 1080p WEB-DL.mkv"), QueueCalls.NewJob(season1 + "show-9982 1080p WEB-DL.mkv"),
            QueueCalls.NewJob("library/Some Show Name/Season 02/show-9983 1080p WEB-DL.mkv"), QueueCalls.NewJob("loose file.mkv"));
        Assert.Equal(9_999_991, jobs[0].Id);
        await api.FinishNextAsync(1, "encoder-a");
        await api.RunNextAsync("encoder-b", 42.5);
        await page.SetViewportSizeAsync(width, height);
        await UseKeyAsync(QueueFactory.ApiKey);
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(4);
        await Expect(page.Locator("#workers .running-job")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"library-{width}.png"), FullPage = true });

        var problems = await page.EvaluateAsync<string[]>("""
            jobs => {
              const problems = [];
              const box = node => node.getBoundingClientRect();
              // Cut short: by its own ellipsis, or by an ancestor that hides what overflows it.
              const clipped = node => {
                if (!node || node.clientWidth === 0 || node.scrollWidth > node.clientWidth) return true;
                for (let around = node.parentElement; around && around.tagName !== 'TR'; around = around.parentElement) {
                  if (getComputedStyle(around).overflowX === 'visible') continue;
                  const inside = box(around).left + around.clientLeft;
                  if (box(node).left < inside - 0.5 || box(node).right > inside + around.clientWidth + 0.5) return true;
                }
                return false;
              };
              // The file's own name in full, then its folder after it (beside it or on the next line), in a quieter style.
              const checkName = (where, line, path) => {
                const slash = path.lastIndexOf('/');
                const name = line.querySelector('.file-name');
                const folder = line.querySelector('.folder');
                if (name?.textContent !== path.slice(slash + 1)) problems.push(`${where}: the name shows “${name?.textContent}”`);
                else if (clipped(name)) problems.push(`${where}: the name “${name.textContent}” is cut off`);
                if (slash < 0) {
                  if (folder) problems.push(`${where}: a folder is shown for a file at the top`);
                  return;
                }
                if (folder?.textContent !== path.slice(0, slash)) { problems.push(`${where}: the folder shows “${folder?.textContent}”`); return; }
                if (box(folder).width < 1) problems.push(`${where}: the folder is not shown`);
                if (box(folder).left < box(name).right - 0.5 && box(folder).top < box(name).bottom - 1) problems.push(`${where}: the folder is not after the name`);
                const [n, f] = [getComputedStyle(name), getComputedStyle(folder)];
                if (n.color === f.color && parseFloat(f.fontSize) >= parseFloat(n.fontSize)) problems.push(`${where}: the folder looks like the name`);
              };
              for (const { id, path } of jobs) {
                const row = document.querySelector(`#rows tr[data-job-id='${id}']`);
                const cell = row.querySelector('td.file');
                if (!cell.title.includes(path)) problems.push(`job ${id}: the whole path is not in the tooltip`);
                checkName(`job ${id}`, cell, path);
                // In its column, or on a phone under the name.
                const shownIds = [...row.querySelectorAll(`button[aria-label='Details of job ${id}']`)].filter(button => button.checkVisibility());
                if (shownIds.length !== 1 || shownIds[0].textContent !== String(id) || clipped(shownIds[0]))
                  problems.push(`job ${id}: the id is not shown whole (${shownIds.map(button => `${button.textContent} in ${box(button.parentElement).width}px`)})`);
              }
              for (const line of document.querySelectorAll('#workers .running-job')) {
                const id = Number(line.dataset.jobId);
                checkName(`worker's job ${id}`, line, jobs.find(job => job.id === id)?.path ?? '');
                if (!line.title.includes(jobs.find(job => job.id === id)?.path)) problems.push(`worker's job ${id}: the whole path is not in the tooltip`);
              }
              if (document.documentElement.scrollWidth > window.innerWidth) problems.push('the page scrolls sideways');
              for (const wrap of document.querySelectorAll('.table-wrap')) if (wrap.scrollWidth > wrap.clientWidth) problems.push('a table scrolls sideways');
              return problems;
            }
            """, jobs.Select(job => new { id = job.Id, path = job.FileName }).ToArray());
        Assert.Empty(problems);

        // The search still looks through the whole path, folders included; the detail shows the whole path.
        await page.Locator("#search").FillAsync("season 02");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Details of job {jobs[2].Id}" }).ClickAsync();
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("library/Some Show Name/Season 02/show-9983 1080p WEB-DL.mkv");
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
