using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using VideoEncode.Contracts;
using static Microsoft.Playwright.Assertions;

namespace VideoEncode.Browser.Tests;

/// <summary>
/// Encode settings on the pages: the profiles page, the profile choice on add-jobs, and a job's
/// settings, scores and command line in view-jobs' details; real Chromium against the host on a loopback port.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ProfilesPageTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly QueueFactory host = new();
    private HttpClient api = null!;
    private IBrowserContext context = null!;
    private IPage page = null!;
    private readonly List<string> refused = [];

    public async Task InitializeAsync()
    {
        var baseAddress = host.StartOnLoopback();
        api = host.CreateApiClient();
        context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        await context.AddInitScriptAsync($"localStorage.setItem('videoEncodeApiKey', '{QueueFactory.ApiKey}')");
        page = await context.NewPageAsync();
        // The strict CSP must hold: nothing the pages do may be refused.
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) refused.Add(message.Text); };
    }

    public async Task DisposeAsync()
    {
        await context.DisposeAsync();
        host.Dispose();
    }

    [Fact]
    public async Task AProfileIsMadeWithTheHostsChoicesRefusedAtItsFieldEditedAndDeleted()
    {
        await page.GotoAsync("/profiles/");
        var builtIn = page.Locator("#profiles tr[data-profile='hevc-library']");
        await Expect(builtIn).ToContainTextAsync("built-in");
        await Expect(builtIn).ToContainTextAsync("libx265 · crf 24 · medium · 10-bit · audio copied · mkv");
        await Expect(builtIn.GetByRole(AriaRole.Button, new() { Name = "Edit hevc-library" })).ToHaveCountAsync(0);
        await Expect(builtIn.GetByRole(AriaRole.Button, new() { Name = "Delete hevc-library" })).ToHaveCountAsync(0);

        // The choices follow each other: the codec's encoders, the encoder's presets, the containers that hold the codec.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("small-hevc");
        await page.GetByLabel("Video codec").SelectOptionAsync("hevc");
        await Expect(page.Locator("#profile-encoder option")).ToHaveTextAsync(["libx265", "hevc_nvenc (NVIDIA NVENC)", "hevc_qsv (Intel Quick Sync)", "hevc_vaapi (VAAPI)"]);
        await page.GetByLabel("Encoder").SelectOptionAsync("hevc_nvenc");
        await Expect(page.Locator("#profile-preset option")).ToHaveTextAsync(["p1", "p2", "p3", "p4", "p5", "p6", "p7"]);
        await Expect(page.Locator("#profile-preset")).ToHaveValueAsync("p4");
        await page.GetByLabel("Video codec").SelectOptionAsync("vp9");
        await Expect(page.Locator("#profile-container option")).ToHaveTextAsync(["mp4", "mkv", "webm"]);
        await page.GetByLabel("Container").SelectOptionAsync("webm");
        await Expect(page.Locator("#profile-audio option")).ToHaveTextAsync(["copy (keep it as it is)", "opus"]);
        await page.GetByLabel("Video codec").SelectOptionAsync("hevc");
        await Expect(page.Locator("#profile-container option")).ToHaveTextAsync(["mp4", "mkv"]);

        // The host judges the crf against libx265's scale; its message shows at the field.
        await page.GetByLabel("Encoder").SelectOptionAsync("libx265");
        await page.GetByLabel("CRF (0–51)").FillAsync("60");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator("#profile-crf-error")).ToContainTextAsync("crf is required and must be a number from 0 to 51");
        await Expect(page.Locator("#profile-crf")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/profiles/small-hevc")).StatusCode);

        await page.GetByLabel("CRF (0–51)").FillAsync("26");
        await page.GetByLabel("Preset").SelectOptionAsync("slow");
        await page.GetByLabel("Container").SelectOptionAsync("mkv");
        await page.GetByLabel("Least SSIM (0–1)").FillAsync("0.9");
        await page.GetByLabel("Keep the original if the encode is not smaller").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator("#save-message")).ToContainTextAsync("Saved “small-hevc”");
        await Expect(page.Locator("#profile-crf-error")).ToBeEmptyAsync();
        var saved = await SettingsOfAsync("small-hevc");
        Assert.Equal((VideoCodecs.Hevc, "libx265", "26", "slow", Containers.Mkv, 0.9, true),
            (saved.VideoCodec, saved.Encoder, saved.Crf, saved.Preset, saved.Container, saved.MinSsim, saved.SkipIfLarger));

        // Edit brings its settings back into the form; a change saves under the same name.
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a new one" }).ClickAsync();
        await Expect(page.Locator("#profile-video_codec")).ToHaveValueAsync("h264");
        var row = page.Locator("#profiles tr[data-profile='small-hevc']");
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit small-hevc" }).ClickAsync();
        await Expect(page.Locator("#profile-encoder")).ToHaveValueAsync("libx265");
        await Expect(page.Locator("#profile-preset")).ToHaveValueAsync("slow");
        await Expect(page.Locator("#profile-container")).ToHaveValueAsync("mkv");
        await page.GetByLabel("CRF (0–51)").FillAsync("28");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(row).ToContainTextAsync("crf 28");
        Assert.Equal("28", (await SettingsOfAsync("small-hevc")).Crf);
        await ShootAsync("profiles");

        // Delete asks first; Cancel keeps it.
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete small-hevc" }).ClickAsync();
        await Expect(page.Locator("#confirm-text")).ToContainTextAsync("Delete the profile “small-hevc”?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/profiles/small-hevc")).StatusCode);
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete small-hevc" }).ClickAsync();
        await page.Locator("#confirm").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.Locator("#message")).ToContainTextAsync("Deleted “small-hevc”.");
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/profiles/small-hevc")).StatusCode);
        Assert.Empty(refused);
    }

    [Fact]
    public async Task ABuiltInProfileIsCopiedUnderANewNameAndAReadKeyOnlyReadsProfiles()
    {
        await page.GotoAsync("/profiles/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy av1-archive" }).ClickAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("av1-archive-mine");
        await Expect(page.Locator("#profile-encoder")).ToHaveValueAsync("libsvtav1");
        await Expect(page.GetByLabel("CRF (0–63)")).ToHaveValueAsync("30");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator("#profiles tr[data-profile='av1-archive-mine']")).ToContainTextAsync("libsvtav1 · crf 30 · preset 6 · 10-bit");
        Assert.Equal(await SettingsOfAsync("av1-archive"), await SettingsOfAsync("av1-archive-mine"));

        var reader = await KeyCalls.CreateKeyAsync(api, "reader", "read");
        await page.GetByLabel("API key").FillAsync(reader);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
        await Expect(page.Locator("#message")).ToContainTextAsync("“reader” is a read key: it can read profiles but not change them.");
        await Expect(page.Locator("#editor")).ToBeHiddenAsync();
        await Expect(page.Locator("#profiles tr[data-profile='av1-archive-mine']")).ToBeVisibleAsync();
        await Expect(page.Locator("#profiles button")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task AddJobsWithAProfileEnqueuesItsSettingsAndAFilledCrfOverridesIt()
    {
        (await api.PutAsJsonAsync("/api/profiles/web-av1", new { video_codec = "av1", crf = 35, container = "webm", audio = "opus" })).EnsureSuccessStatusCode();
        await page.GotoAsync("/add-jobs/");
        await page.GetByLabel("File name", new() { Exact = true }).FillAsync("films/trip.mov");
        await page.Locator("#one-profile").SelectOptionAsync("web-av1");
        await Expect(page.Locator("#one-profile-hint")).ToContainTextAsync("libsvtav1 · crf 35 · preset 8 · opus · webm");
        await Expect(page.Locator("#one-crf")).ToHaveValueAsync("");
        await Expect(page.Locator("#one-crf")).ToHaveAttributeAsync("placeholder", "the profile's: 35");
        await Expect(page.Locator("label[for='one-crf']")).ToHaveTextAsync("CRF (0–63)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-message")).ToContainTextAsync("Added job 1; its result goes to films/trip.webm.");
        await ShootAsync("add-jobs-profile");

        var job = await api.GetJobAsync(1);
        Assert.Equal("web-av1", job.Profile);
        Assert.Equal(await SettingsOfAsync("web-av1"), job.Settings);

        // Bulk: the same profile, a crf and preset of the profile's encoder over it.
        await page.Locator("#bulk-file_name").FillAsync("a.mkv\nb.mkv");
        await page.Locator("#bulk-profile").SelectOptionAsync("web-av1");
        await page.Locator("#bulk-crf").FillAsync("40");
        await page.Locator("#bulk-preset").SelectOptionAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add jobs" }).ClickAsync();
        await Expect(page.Locator("#bulk-message")).ToContainTextAsync("Added 2 jobs: 2, 3.");
        var bulk = await api.GetJobAsync(3);
        Assert.Equal(("web-av1", "40", "10", Containers.Webm), (bulk.Profile, bulk.Settings!.Crf, bulk.Settings.Preset, bulk.Settings.Container));

        // Back to none: today's libx264 crf and preset, both required again.
        await page.Locator("#one-profile").SelectOptionAsync("");
        await Expect(page.Locator("#one-crf")).ToHaveValueAsync("23");
        await Expect(page.Locator("#one-preset")).ToHaveValueAsync("medium");
        await page.GetByLabel("File name", new() { Exact = true }).FillAsync("plain.mkv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await Expect(page.Locator("#one-message")).ToContainTextAsync("Added job 4");
        var plain = await api.GetJobAsync(4);
        Assert.Null(plain.Profile);
        Assert.Equal(EncodeSettings.Legacy("23", "medium"), plain.Settings);
        Assert.Empty(refused);
    }

    [Fact]
    public async Task JobDetailShowsTheSettingsProfileAndCodecInTheRow()
    {
        await api.EnqueueAsync(new { file_name = "show.mkv", profile = "hevc-library", crf = "22" });
        await page.GotoAsync("/view-jobs/");
        var row = page.Locator("#rows tr[data-job-id='1']");
        await Expect(row.Locator("td.settings")).ToHaveTextAsync("hevc → mkv · crf 22 · medium");
        await row.GetByRole(AriaRole.Button, new() { Name = "Details of job 1" }).ClickAsync();
        var settings = page.GetByLabel("Encode settings of job 1");
        await Expect(settings.Locator("dd[data-field='encoder']")).ToHaveTextAsync("libx265");
        await Expect(settings.Locator("dd[data-field='crf']")).ToHaveTextAsync("22");
        await Expect(settings.Locator("dd[data-field='bit_depth']")).ToHaveTextAsync("10");
        await Expect(settings.Locator("dd[data-field='bitrate']")).ToHaveTextAsync("–");
        await Expect(settings.Locator("dd[data-field='skip_if_larger']")).ToHaveTextAsync("true");
        await Expect(settings.Locator("dd[data-field='tonemap']")).ToHaveTextAsync("–");
        await Expect(settings.Locator("dt")).ToHaveCountAsync(20); // every settings field, the language, tone-map and task ones too
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("Profilehevc-library");
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("Command line–");
        await ShootAsync("job-settings");
    }

    [Fact]
    public async Task AFinishedJobsDetailShowsTheCommandLineThatRanWithAButtonToCopyIt()
    {
        await api.EnqueueAsync(QueueCalls.NewJob("small.mkv"));
        var job = await api.ClaimAsAsync("box");
        const string command = "ffmpeg -hide_banner -i small.mkv -c:v libx264 -crf 23 -preset medium -c:a aac small.mp4";
        (await api.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new FinishReport(job.ClaimToken!, CommandLine: command), WireJson.Options))
            .EnsureSuccessStatusCode();

        await OpenDetailAsync(job.Id);
        var fields = page.Locator("#detail-fields");
        await Expect(fields.Locator(".command-line code")).ToHaveTextAsync(command);
        await Expect(fields).ToContainTextAsync("SSIMnot measured");
        await fields.GetByRole(AriaRole.Button, new() { Name = "Copy the command line" }).ClickAsync();
        // Chromium may refuse the clipboard to a page on plain http; the page then selects the text instead.
        await Expect(fields.Locator(".command-line button")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(Copied|Selected: press Ctrl\\+C)$"));
    }

    [Fact]
    public async Task AFinishedJobsDetailShowsItsScoresAndThatTheOriginalWasKept()
    {
        await api.EnqueueAsync(new { file_name = "small.mkv", crf = "23", preset = "medium", skip_if_larger = true });
        var job = (await api.ClaimAsync(new { worker = "box", encoders = new[] { EncoderCatalog.Libx264 } }))!;
        (await api.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new FinishReport(job.ClaimToken!, InputBytes: 1000, OutputBytes: 1200,
            Ssim: 0.9871, Psnr: 41.25, Result: JobResults.KeptOriginal), WireJson.Options)).EnsureSuccessStatusCode();
        var finished = await api.GetJobAsync(job.Id);
        Assert.Equal((0.9871, 41.25, JobResults.KeptOriginal), (finished.Ssim, finished.Psnr, finished.Result));

        await OpenDetailAsync(job.Id);
        await Expect(page.Locator($"#rows tr[data-job-id='{job.Id}'] td.settings")).ToContainTextAsync("original kept");
        var fields = page.Locator("#detail-fields");
        await Expect(fields).ToContainTextAsync("SSIM0.9871");
        await Expect(fields).ToContainTextAsync("PSNR41.25 dB");
        await Expect(fields).ToContainTextAsync("original kept: encode was not smaller");
    }

    private async Task OpenDetailAsync(long id)
    {
        await page.GotoAsync("/view-jobs/");
        await page.Locator($"#rows tr[data-job-id='{id}']").GetByRole(AriaRole.Button, new() { Name = $"Details of job {id}" }).ClickAsync();
    }

    /// <summary>Screenshots go to the test output folder, where a person can look at them.</summary>
    private Task ShootAsync(string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png"), FullPage = true });

    private async Task<EncodeSettings> SettingsOfAsync(string profile)
    {
        using var answer = JsonDocument.Parse(await api.GetStringAsync($"/api/profiles/{profile}"));
        return answer.RootElement.GetProperty("settings").Deserialize<EncodeSettings>(WireJson.Options)!;
    }
}
