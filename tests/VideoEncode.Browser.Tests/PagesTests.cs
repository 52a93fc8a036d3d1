using System.Net.Http.Json;
using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>The add-jobs and view-jobs pages in real Chromium against the host on a loopback port.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PagesTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private HttpClient api = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;
    private readonly List<string> dialogs = [];

    public async Task InitializeAsync()
    {
        var baseAddress = host.StartOnLoopback();
        api = host.CreateApiClient();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        page = await context.NewPageAsync();
        // A page that runs script from a file name would show it as an alert; record any such dialog.
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    [Fact]
    public async Task AJobAddedThroughTheFormShowsUpInViewJobs()
    {
        await OpenWithKeyAsync("/add-jobs/");
        await page.GetByLabel("File name", new() { Exact = true }).FillAsync("shows/pilot episode.mkv");
        await page.Locator("#one-crf").FillAsync("20");
        await page.Locator("#one-preset").SelectOptionAsync("slow");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();

        await Expect(page.Locator("#one-message")).ToContainTextAsync("Added job 1; its result goes to shows/pilot episode.mp4.");
        await page.GetByRole(AriaRole.Link, new() { Name = "View them" }).ClickAsync();

        var row = page.Locator("#rows tr[data-job-id='1']");
        await Expect(row.Locator(".file-name")).ToHaveTextAsync("pilot episode.mkv");
        await Expect(row.Locator(".folder")).ToHaveTextAsync("shows");
        await Expect(row.Locator(".output-name")).ToHaveTextAsync("→ pilot episode.mp4"); // beside its input: its own name is enough
        await Expect(row.Locator("td.file")).ToHaveAttributeAsync("title", "shows/pilot episode.mkv → shows/pilot episode.mp4");
        await Expect(row).ToContainTextAsync("slow");
        await Expect(row.Locator("td.settings")).ToHaveTextAsync("crf 20 · slow");
        await Expect(row).ToContainTextAsync("pending");
    }

    [Fact]
    public async Task BulkAddCreatesOneJobPerNonBlankLine()
    {
        await OpenWithKeyAsync("/add-jobs/");
        await page.Locator("#bulk-file_name").FillAsync("a.mkv\n\n  b.mkv  \nfolder/c.mkv\n");
        await page.Locator("#bulk-crf").FillAsync("28");
        await page.Locator("#bulk-preset").SelectOptionAsync("fast");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add jobs" }).ClickAsync();

        await Expect(page.Locator("#bulk-message")).ToContainTextAsync("Added 3 jobs: 1, 2, 3.");
        var jobs = await api.ListAsync();
        Assert.Equal(["folder/c.mkv", "b.mkv", "a.mkv"], jobs.Select(job => job.FileName));
        Assert.All(jobs, job => Assert.Equal(("28", "fast"), (job.Crf, job.Preset)));
    }

    [Fact]
    public async Task ABadLineInABulkAddIsShownNextToTheFieldAndNothingIsAdded()
    {
        await OpenWithKeyAsync("/add-jobs/");
        await page.Locator("#bulk-file_name").FillAsync("good.mkv\n\n../escape.mkv\nalso-good.mkv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add jobs" }).ClickAsync();

        await Expect(page.Locator("#bulk-file_name-error")).ToContainTextAsync("Line 3: file_name must not contain '..' segments");
        await Expect(page.Locator("#bulk-file_name")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#bulk-message")).ToContainTextAsync("Nothing was added");
        Assert.Empty(await api.ListAsync());
    }

    [Fact]
    public async Task AServerValidationErrorIsShownNextToItsField()
    {
        await OpenWithKeyAsync("/add-jobs/");
        await page.Locator("#one-file_name").FillAsync("fine.mkv");
        await page.Locator("#one-crf").FillAsync("60");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-crf-error")).ToContainTextAsync("crf is required and must be a number from 0 to 51");
        Assert.Empty(await api.ListAsync());
    }

    [Fact]
    public async Task AnOutputNameThatALiveJobHoldsIsShownNextToItsFieldAndNothingIsAdded()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("first.mkv"));
        await OpenWithKeyAsync("/add-jobs/");
        await page.Locator("#one-file_name").FillAsync("second.mkv");
        await page.GetByLabel("Output name (optional)").FillAsync("first.mp4");
        await page.GetByLabel("Replace an existing output").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();

        await Expect(page.Locator("#one-output_name-error")).ToContainTextAsync("output_name 'first.mp4' is taken");
        Assert.Single(await api.ListAsync());

        await page.GetByLabel("Output name (optional)").FillAsync("renamed/second.mp4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-message")).ToContainTextAsync("its result goes to renamed/second.mp4");
        var added = (await api.ListAsync())[0];
        Assert.Equal(("renamed/second.mp4", true), (added.OutputName, added.Overwrite));
    }

    [Fact]
    public async Task SwaggerUiWorksUnderTheStrictContentSecurityPolicy()
    {
        // Swagger UI sets one inline style the policy blocks (cosmetic); no script of it may be refused.
        var blockedScripts = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) && message.Text.Contains("script", StringComparison.OrdinalIgnoreCase))
                blockedScripts.Add(message.Text);
        };
        await page.GotoAsync("/swagger/index.html");
        await Expect(page.GetByText("/api/jobs/{id}/heartbeat").First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Authorize" })).ToBeVisibleAsync();
        Assert.Empty(blockedScripts);
    }

    [Fact]
    public async Task TheStatusFilterShowsOnlyThatStatusWithCounts()
    {
        var jobs = await api.EnqueueAsync(QueueCalls.NewJob("one.mkv"), QueueCalls.NewJob("two.mkv"), QueueCalls.NewJob("three.mkv"));
        await api.ClaimAsync();
        await api.ClaimAsync();
        await api.PostAsync($"/api/jobs/{jobs[0].Id}/finish", null);

        await OpenWithKeyAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(3);
        await page.GetByRole(AriaRole.Button, new() { Name = "Finished (1)" }).ClickAsync();
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("one.mkv");
        await page.GetByRole(AriaRole.Button, new() { Name = "In progress (1)" }).ClickAsync();
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("two.mkv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pending (1)" }).ClickAsync();
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("three.mkv");
        Assert.Contains("status=pending", page.Url);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "All (3)" })).ToHaveAttributeAsync("aria-pressed", "false");
    }

    [Fact]
    public async Task PagingWalksThroughAHundredAndTwentyJobsFromTheServer()
    {
        await api.EnqueueAsync(Enumerable.Range(1, 120).Select(i => QueueCalls.NewJob($"clip{i:000}.mkv")).ToArray());
        var listRequests = new List<string>();
        page.Request += (_, request) => { if (request.Url.Contains("/api/jobs?")) listRequests.Add(request.Url); };

        await OpenWithKeyAsync("/view-jobs/");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 1 of 3 · 120 jobs");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(50);
        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("clip120.mkv");

        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 2 of 3 · 120 jobs");
        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("clip070.mkv");

        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(20);
        await Expect(page.Locator("#rows tr").Last).ToContainTextAsync("clip001.mkv");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next" })).ToBeDisabledAsync();

        await page.GetByLabel("Per page").SelectOptionAsync("25");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("Page 1 of 5 · 120 jobs");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(25);
        Assert.All(listRequests, url => Assert.Matches("limit=(25|50)&offset=", url));
    }

    [Fact]
    public async Task DeleteAsksFirstAndCancelKeepsTheJob()
    {
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("doomed.mkv")))[0];
        await OpenWithKeyAsync("/view-jobs/");
        var delete = page.GetByRole(AriaRole.Button, new() { Name = $"Delete job {job.Id}" });

        await delete.ClickAsync();
        await Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await Expect(page.Locator("#confirm-text")).ToContainTextAsync("Delete job 1 (doomed.mkv)?");
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.Locator("#confirm")).ToBeHiddenAsync();
        Assert.Single(await api.ListAsync());

        await delete.ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Deleted job 1.");
        await Expect(page.Locator("#rows")).ToContainTextAsync("No jobs here.");
        Assert.Empty(await api.ListAsync());
    }

    [Fact]
    public async Task AFinishedJobCanBeResetFromTheTable()
    {
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("again.mkv")))[0];
        await api.ClaimAsync();
        await api.PostAsync($"/api/jobs/{job.Id}/finish", null);
        await OpenWithKeyAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("finished");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Reset job {job.Id}" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Reset" }).ClickAsync();

        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("pending");
        Assert.Equal(JobStatus.Pending, (await api.ListAsync())[0].Status);
    }

    [Fact]
    public async Task APendingJobCanBeCancelledAndThenRetried()
    {
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("second thoughts.mkv")))[0];
        await OpenWithKeyAsync("/view-jobs/");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Cancel job {job.Id}" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).Last.ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync($"Job {job.Id} is cancelled.");
        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("cancelled");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancelled (1)" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = $"Retry job {job.Id}" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.Locator("#rows tr").First).ToContainTextAsync("pending");
        Assert.Equal(JobStatus.Pending, (await api.ListAsync())[0].Status);
    }

    [Fact]
    public async Task AJobWithAHigherPriorityCanBeAddedFromTheForm()
    {
        await OpenWithKeyAsync("/add-jobs/");
        await page.Locator("#one-file_name").FillAsync("urgent.mkv");
        await page.GetByLabel("Priority", new() { Exact = true }).FillAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-message")).ToContainTextAsync("Added job 1;");
        Assert.Equal(10, (await api.ListAsync())[0].Priority);
    }

    [Fact]
    public async Task AFailedJobShowsItsErrorAndLog()
    {
        var job = (await api.EnqueueAsync(QueueCalls.NewJob("broken.mkv")))[0];
        var claimed = await api.ClaimAsync();
        await api.PostAsJsonAsync($"/api/jobs/{job.Id}/fail",
            new FailureReport("ffmpeg exited with code 1: moov atom not found", "[mov] moov atom not found", claimed!.ClaimToken), WireJson.Options);

        await OpenWithKeyAsync("/view-jobs/?status=failed");
        var row = page.Locator($"#rows tr[data-job-id='{job.Id}']");
        await Expect(row).ToContainTextAsync("ffmpeg exited with code 1: moov atom not found");
        await row.Locator("td.file").ClickAsync();
        await Expect(page.Locator("#detail pre")).ToHaveTextAsync("[mov] moov atom not found");
    }

    [Fact]
    public async Task AWrongKeyShowsAMessageAndNoData()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("secret-project.mkv"));
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#key-status")).ToContainTextAsync("No API key yet");
        await Expect(page.Locator("#message")).ToContainTextAsync("API key is missing or was rejected");

        await SaveKeyAsync("not-the-key");
        await Expect(page.Locator("#key-status")).ToContainTextAsync("The host rejected this API key");
        await Expect(page.Locator("#message")).ToContainTextAsync("API key is missing or was rejected");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(0);
        Assert.DoesNotContain("secret-project", await page.ContentAsync());

        await SaveKeyAsync(QueueFactory.ApiKey);
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("secret-project.mkv");
        await Expect(page.Locator("#message")).ToBeEmptyAsync();
    }

    [Fact]
    public async Task AKeySavedByTheOriginalPagesCarriesOver()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("carried.mkv"));
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToContainTextAsync("carried.mkv");
    }

    [Fact]
    public async Task AFileNameWithMarkupIsShownAsTextAndRunsNothing()
    {
        const string hostile = "<img src=x onerror=alert(1)>.mp4";
        await api.EnqueueAsync(QueueCalls.NewJob(hostile), QueueCalls.NewJob("<script>alert(2)</script>.mkv"));
        await OpenWithKeyAsync("/view-jobs/");

        await Expect(page.Locator("#rows td.file .file-name").Last).ToHaveTextAsync(hostile);
        // Its "/" makes "<script>alert(2)<" a folder, shown after the name as text too.
        await Expect(page.Locator("#rows td.file .file-name").First).ToHaveTextAsync("script>.mkv");
        await Expect(page.Locator("#rows td.file .folder").First).ToHaveTextAsync("<script>alert(2)<");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete job 1" }).ClickAsync();
        await Expect(page.Locator("#confirm-text")).ToContainTextAsync(hostile);
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await page.WaitForTimeoutAsync(500);

        Assert.Equal(0, await page.Locator("img, #rows script").CountAsync());
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task ScreenshotsOfBothPagesInLightDarkAndPhoneWidth()
    {
        var jobs = await api.EnqueueAsync(
            QueueCalls.NewJob("movies/big buck bunny.mkv", "20", "slow"),
            QueueCalls.NewJob("shows/s01e01.mkv"),
            QueueCalls.NewJob("shows/s01e02.mkv", "28", "fast"),
            QueueCalls.NewJob("broken/file.avi"));
        await api.ClaimAsync();
        await api.ClaimAsync();
        await api.PostAsync($"/api/jobs/{jobs[0].Id}/finish", null);
        var third = await api.ClaimAsync();
        await api.PostAsJsonAsync($"/api/jobs/{jobs[2].Id}/fail",
            new FailureReport("The input file 'shows/s01e02.mkv' does not exist in the input folder.", ClaimToken: third!.ClaimToken), WireJson.Options);

        await OpenWithKeyAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(4);
        await Shoot("view-jobs");
        await page.GotoAsync("/add-jobs/");
        await Expect(page.Locator("#one-preset")).ToHaveValueAsync("medium");
        await Shoot("add-jobs");

        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark });
        await Shoot("add-jobs-dark");
        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(4);
        await Shoot("view-jobs-dark");

        await page.SetViewportSizeAsync(390, 844);
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });
        await Shoot("view-jobs-phone");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1") ||
                    await page.Locator(".table-wrap").EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth"),
            "at phone width only the table scrolls sideways, not the page");

        foreach (var name in new[] { "view-jobs", "add-jobs", "add-jobs-dark", "view-jobs-dark", "view-jobs-phone" })
            Assert.True(new FileInfo(Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png")).Length > 10_000);
    }

    [Fact]
    public async Task EverythingCanBeReachedWithTheKeyboard()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("keyboard.mkv"));
        await OpenWithKeyAsync("/view-jobs/");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(1);
        var reached = new HashSet<string>();
        string? deleteOutline = null;
        for (var i = 0; i < 30; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var name = await page.EvaluateAsync<string>("document.activeElement.getAttribute('aria-label') || document.activeElement.id || document.activeElement.textContent.trim()");
            reached.Add(name);
            if (name == "Delete job 1")
                deleteOutline = await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle");
        }
        Assert.Contains("Details of job 1", reached);
        Assert.Contains("Delete job 1", reached);
        Assert.Contains("All (1)", reached);
        Assert.Contains("page-size", reached);
        Assert.Contains("api-key", reached);
        Assert.NotEqual("none", deleteOutline); // focus is visible
    }

    [Fact]
    public async Task ThePauseButtonPausesTheQueueAndResumeResumesIt()
    {
        await OpenWithKeyAsync("/view-jobs/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause", Exact = true }).ClickAsync();

        await Expect(page.Locator("#queue-state")).ToContainTextAsync("Queue paused (since ");
        await Expect(page.Locator("#queue-state")).ToContainTextAsync("by VIDEOENCODE_APIKEY");
        Assert.True((await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/queue")).GetProperty("paused").GetBoolean());

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume", Exact = true }).ClickAsync();
        await Expect(page.Locator("#queue-state")).ToContainTextAsync("Queue running");
        Assert.False((await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/queue")).GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task AWorkerIsDrainedAndUndrainedFromTheWorkersList()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        (await api.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("box-1"), WireJson.Options)).EnsureSuccessStatusCode();
        await OpenWithKeyAsync("/view-jobs/");
        var row = page.Locator("#workers tr[data-worker='box-1']");
        await Expect(row).ToContainTextAsync("online");
        await Expect(row).ToContainTextAsync("a.mkv");

        // The line saying what the click did appears once the host has answered; the list may be redrawn
        // meanwhile from a refresh that began earlier, so the host is asked only after that line.
        await row.GetByRole(AriaRole.Button, new() { Name = "Drain box-1" }).ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("box-1 will finish its running jobs");
        await Expect(row).ToContainTextAsync("online, draining");
        Assert.True(await DrainingAsync("box-1"));

        await row.GetByRole(AriaRole.Button, new() { Name = "Undrain box-1" }).ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("box-1 may claim jobs again.");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Drain box-1" })).ToBeVisibleAsync();
        Assert.False(await DrainingAsync("box-1"));
    }

    [Fact]
    public async Task AKeyThatIsNotAnAdminsSeesThePauseAndDrainButNoButtonsToChangeThem()
    {
        var created = await api.PostAsJsonAsync("/api/keys", new { name = "viewer", role = "read" });
        var key = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString()!;
        await api.PostAsync("/api/queue/pause", null);
        await api.PostAsync("/api/workers/box-2/drain", null);

        await page.GotoAsync("/view-jobs/");
        await SaveKeyAsync(key);

        await Expect(page.Locator("#queue-state")).ToContainTextAsync("Queue paused");
        await Expect(page.Locator("#workers tr[data-worker='box-2']")).ToContainTextAsync("never seen, draining");
        await Expect(page.Locator("#queue-toggle")).ToBeHiddenAsync();
        await Expect(page.Locator("#workers button")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AnAdminMakesAKeySeesItsSecretOnceAndRevokesIt()
    {
        await OpenWithKeyAsync("/keys/");
        await Expect(page.Locator("#key-status")).ToContainTextAsync("(admin)");
        await page.GetByLabel("Name").FillAsync("encoder-9");
        await page.GetByLabel("Role").SelectOptionAsync("worker");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make key" }).ClickAsync();

        await Expect(page.Locator("#secret")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^vek_"));
        var secret = (await page.Locator("#secret").TextContentAsync())!;
        var worker = host.CreateApiClient(secret);
        // The key made on the page works, as what it was made: its name and role (then its quota and usage).
        Assert.StartsWith("""{"name":"encoder-9","role":"worker",""", await worker.GetStringAsync("/api/keys/current"));
        var row = page.Locator("#keys tr", new() { HasText = "encoder-9" });
        await Expect(row).ToContainTextAsync("never");
        await Expect(page.Locator("#audit")).ToContainTextAsync("key.create");

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator("#confirm-text")).ToContainTextAsync("Revoke the key “encoder-9”?");
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator("#keys")).ToContainTextAsync("No keys made yet.");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await worker.GetAsync("/api/jobs")).StatusCode);
    }

    [Fact]
    public async Task ASubmitKeySeesCancelButNotDeleteAndCannotManageKeys()
    {
        var key = await KeyCalls.CreateKeyAsync(api, "desk", "submit");
        await api.EnqueueAsync(QueueCalls.NewJob("mine.mkv"));

        await page.GotoAsync("/view-jobs/");
        await SaveKeyAsync(key);
        var row = page.Locator("#rows tr", new() { HasText = "mine.mkv" });
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Cancel job" })).ToBeVisibleAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Delete job" })).ToHaveCountAsync(0);

        await page.GotoAsync("/keys/");
        await Expect(page.Locator("#message")).ToContainTextAsync("“desk” is a submit key");
        await Expect(page.Locator("#new-key")).ToBeHiddenAsync();
    }

    private async Task<bool> DrainingAsync(string worker) =>
        (await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/workers")).EnumerateArray()
            .Single(w => w.GetProperty("name").GetString() == worker).GetProperty("draining").GetBoolean();

    private async Task OpenWithKeyAsync(string path)
    {
        await page.GotoAsync(path);
        await SaveKeyAsync(QueueFactory.ApiKey);
    }

    private async Task SaveKeyAsync(string key)
    {
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
    }

    private Task Shoot(string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png"), FullPage = true });
}
