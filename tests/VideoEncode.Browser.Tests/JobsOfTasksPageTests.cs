using System.Formats.Tar;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// Jobs made of tasks on the pages: add-jobs asks for a ladder, thumbnails and several outputs; view-jobs shows a job's
/// tasks moving, its outputs and its storyboard. No encodes: the tasks are claimed, beaten and finished through the
/// worker routes as a worker of the tasks protocol would, and the thumbnails' tar is uploaded as one would upload it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class JobsOfTasksPageTests(BrowserFixture browser) : IAsyncLifetime
{
    /// <summary>A 320×90 JPEG of two 160×90 pictures: red, then blue.</summary>
    private const string Sprite =
        "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABOAAEBAAAAAAAAAAAAAAAAAAAABgEBAQEBAAAAAAAAAAAAAAAAAAgHBhABAAAAAAAAAAAAAAAAAAAAABEBAAAAAAAAAAAAAAAAAAAAAP/AABEIAFoBQAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AIsBybfwAAAAAAAAAAAAAAAAAEgAqtNYAAAAAAAAAAAAAAAAACvASopQAAAAAAAAAAAAAAAAABIAKrTWAAAAAAAAAAAAAAAAAArwEqKUAAAAAAAAAAAAAAAAAASACq01gAAAAAAAAAAAAAAAAAK8BKilAAAAAAAAAAAAAAAAAAEgAqtNYAAAAAAAAAAAAAAAAACvASopQAAAAAAAAAAAAAAAAABIAKrTWAAAAAAAAAAAAAAAAAArwEqKUAAAAAAAAAAAAAAAAAASACq01gAAAAAAAAAAAAAAAAAP/9k=";

    private const string Storyboard = "WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nfilm.sprite.jpg#xywh=0,0,160,90\n\n00:00:10.000 --> 00:00:20.000\nfilm.sprite.jpg#xywh=160,0,160,90\n";

    private readonly QueueFactory host = new();
    private HttpClient api = null!;
    private HttpClient worker = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;

    public async Task InitializeAsync()
    {
        var baseAddress = host.StartOnLoopback();
        api = host.CreateApiClient();
        worker = host.CreateApiClient();
        // A worker of the tasks protocol: only such a claim gets tasks.
        worker.DefaultRequestHeaders.Add(Versions.WorkerHeader, "w/1.0.0/2");
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString(), AcceptDownloads = true });
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
        page = await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    [Fact]
    public async Task AddJobsAsksForALadderThumbnailsAndTwoOutputsAndShowsAnOutputsErrorAtItsControl()
    {
        await page.GotoAsync("/add-jobs/");
        await Expect(page.Locator("#one-preset")).ToHaveValueAsync("medium");
        await page.Locator("#one-file_name").FillAsync("film.mkv");
        // A profile with a ladder and thumbnails fills them in (and unfolds them); its ladder cannot be switched off by the job.
        await page.Locator("#one-profile").SelectOptionAsync("web-ladder");
        await Expect(page.Locator("#one-task-settings")).ToHaveAttributeAsync("open", "");
        await Expect(page.Locator("#one-package-on")).ToBeCheckedAsync();
        await Expect(page.Locator("#one-package-on")).ToBeDisabledAsync();
        await Expect(page.Locator("#one-thumbnails-every_seconds")).ToHaveValueAsync("10");
        await Expect(page.Locator("#one-ladder-1080")).ToBeCheckedAsync();
        await page.Locator("#one-profile").SelectOptionAsync("");
        await Expect(page.Locator("#one-package-on")).Not.ToBeCheckedAsync();

        await page.Locator("#one-package-on").CheckAsync();
        await page.Locator("#one-ladder-1080").UncheckAsync();
        await page.Locator("#one-ladder-480").UncheckAsync();
        await page.Locator("#one-thumbnails-on").CheckAsync();
        await page.Locator("#one-thumbnails-every_seconds").FillAsync("5");
        await page.Locator("#one-add-output").ClickAsync();
        await page.Locator("#one-add-output").ClickAsync();
        await page.Locator("[id='one-outputs[0].output_name']").FillAsync("film-720.mp4");
        await page.Locator("[id='one-outputs[1].crf']").FillAsync("99");
        await page.Locator("[id='one-outputs[1].max_height']").FillAsync("360");
        await page.Locator("[id='one-outputs[1].output_name']").FillAsync("film-360.mp4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();

        await Expect(page.Locator("[id='one-outputs[1].crf-error']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^crf is required and must be a number from 0 to 51"));
        await Expect(page.Locator("[id='one-outputs[1].crf']")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Empty(await api.ListAsync());

        await page.Locator("[id='one-outputs[1].crf']").FillAsync("28");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-message")).ToContainTextAsync("Added job 1");

        var job = await api.GetFromJsonAsync<JsonElement>("/api/jobs/1");
        Assert.True(job.GetProperty("has_tasks").GetBoolean());
        var settings = job.GetProperty("settings");
        Assert.Equal("hls", settings.GetProperty("package").GetProperty("format").GetString());
        Assert.Equal([720, 360], settings.GetProperty("package").GetProperty("ladder").EnumerateArray().Select(height => height.GetInt32()));
        Assert.Equal(5, settings.GetProperty("thumbnails").GetProperty("every_seconds").GetInt32());
        var tasks = await api.GetFromJsonAsync<JsonElement>("/api/jobs/1/tasks");
        Assert.Equal(["encode film-720.mp4", "encode film-360.mp4", "package", "thumbnails"], tasks.EnumerateArray().Select(task =>
            task.GetProperty("kind").GetString() is "encode" ? $"encode {task.GetProperty("output_name").GetString()}" : task.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task ViewJobsShowsATasksJobsTasksMovingItsOutputsWithDownloadsAndItsStoryboard()
    {
        var input = await api.UploadAsync(TusCalls.RandomBytes(2000), "film.mkv");
        var job = (await api.EnqueueAsync(new
        {
            upload_id = input, crf = "23", preset = "fast", thumbnails = new { every_seconds = 10, width = 160 },
            outputs = new object[] { new { output_name = "film-720.mp4", max_height = 720 }, new { output_name = "film-360.mp4", max_height = 360 } },
        }))[0];
        var claimed = new List<Job>();
        for (var i = 0; i < 3; i++)
            claimed.Add((await worker.ClaimAsync(new { worker = "box-1", media = "store", encoders = new[] { "libx264" } }))!);
        var first = claimed.Single(task => task.Task!.Index == 0);
        var second = claimed.Single(task => task.Task!.Index == 1);
        var thumbnails = claimed.Single(task => task.Task!.Kind == TaskKinds.Thumbnails);
        await BeatAsync(second, 40);
        var result = await api.UploadAsync(TusCalls.RandomBytes(1500), "film-720.mp4");
        await FinishAsync(first, new { output_upload_id = result, output_bytes = 1500, codec = "h264", height = 720, ssim = 0.981 });
        await FinishAsync(thumbnails, new { output_upload_id = await api.UploadAsync(ThumbnailsTar(), "film.tar") });

        await page.GotoAsync("/view-jobs/");
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await Expect(page.Locator("#rows tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Details of job {job.Id}" }).ClickAsync();

        var tasks = page.Locator("#detail .tasks-table tbody tr");
        await Expect(tasks).ToHaveCountAsync(3);
        var running = page.Locator($"#detail .tasks-table tr[data-task-id='{second.Id}']");
        await Expect(running).ToContainTextAsync("in progress");
        await Expect(running).ToContainTextAsync("box-1");
        await Expect(running.Locator("progress")).ToHaveAttributeAsync("value", "40");
        var outputs = page.Locator("#detail .outputs-table tbody tr");
        await Expect(outputs).ToHaveCountAsync(3);
        await Expect(outputs.First).ToContainTextAsync("film-720.mp4");
        await Expect(outputs.First).ToContainTextAsync("1.5 KB");
        await Expect(outputs.First).ToContainTextAsync("720p");
        await Expect(outputs.First).ToContainTextAsync("SSIM 0.981");

        // A heartbeat moves the task's bar in place; the task never becomes a row of the list.
        await BeatAsync(second, 70);
        await Expect(running.Locator("progress")).ToHaveAttributeAsync("value", "70");
        await Expect(running).ToContainTextAsync("70%");
        Assert.Equal(1, await page.Locator("#rows tr").CountAsync());

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download film-720.mp4" }).ClickAsync());
        Assert.Equal("film-720.mp4", download.SuggestedFilename);
        var tar = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download film-720.storyboard.vtt" }).ClickAsync());
        Assert.Equal("film-720.thumbnails.tar", tar.SuggestedFilename);

        // The storyboard: the picture under the pointer, red at the start and blue past 10 s, with its time.
        var bar = page.Locator("#detail .storyboard-bar");
        await Expect(bar).ToBeVisibleAsync();
        var box = (await bar.BoundingBoxAsync())!;
        await bar.HoverAsync(new() { Position = new() { X = box.Width * 0.1f, Y = box.Height / 2 } });
        await Expect(page.Locator("#detail .storyboard-time")).ToHaveTextAsync("0:02");
        Assert.Equal("red", await TileColourAsync());
        await bar.HoverAsync(new() { Position = new() { X = box.Width * 0.8f, Y = box.Height / 2 } });
        await Expect(page.Locator("#detail .storyboard-time")).ToHaveTextAsync("0:16");
        Assert.Equal("blue", await TileColourAsync());

        // The phone's width: the detail's tables and the storyboard stay within the screen.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(bar).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#detail').getBoundingClientRect().right <= window.innerWidth + 1"));
        await bar.HoverAsync(new() { Position = new() { X = 30, Y = 10 } });
        await page.Locator("#detail-tasks").ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "view-jobs-tasks-phone.png") });
    }

    private async Task<string> TileColourAsync() => await page.Locator("#detail .storyboard-tile").EvaluateAsync<string>(
        "c => { const [r, g, b] = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data; return r > 150 && b < 100 ? 'red' : b > 150 && r < 100 ? 'blue' : `${r},${g},${b}`; }");

    private async Task BeatAsync(Job task, double progress) =>
        (await worker.PostAsJsonAsync($"/api/jobs/{task.Id}/heartbeat", new { claim_token = task.ClaimToken, progress })).EnsureSuccessStatusCode();

    private async Task FinishAsync(Job task, object report)
    {
        var body = JsonSerializer.SerializeToNode(report)!.AsObject();
        body["claim_token"] = task.ClaimToken;
        var response = await worker.PostAsJsonAsync($"/api/jobs/{task.Id}/finish", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>What a thumbnails task uploads: its three files in a tar, named after the output as the worker names them.</summary>
    private static byte[] ThumbnailsTar()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, bytes) in new[] { ("film.sprite.jpg", Convert.FromBase64String(Sprite)), ("film.storyboard.vtt", System.Text.Encoding.UTF8.GetBytes(Storyboard)),
                         ("film.poster.jpg", Convert.FromBase64String(Sprite)) })
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        }
        return tar.ToArray();
    }
}
