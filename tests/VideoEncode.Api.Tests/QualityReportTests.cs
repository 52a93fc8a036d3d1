using System.Net;
using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// What a worker's quality gate reports with a finish — SSIM, PSNR and the result (encoded, or
/// kept_original when skip_if_larger discarded the encode) — as the host checks, keeps and clears it.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class QualityReportTests : IDisposable
{
    private readonly QueueFactory host = new();
    private readonly HttpClient client;

    public QualityReportTests() => client = host.CreateApiClient();

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task AFinishKeepsTheScoresAndResultUntilTheJobIsRequeuedAndClaimedAgain()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = (await client.ClaimAsync())!;
        var beat = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new { claim_token = claimed.ClaimToken, phase = JobPhase.Checking, progress = 40 });
        Assert.Equal(JobPhase.Checking, (await beat.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Phase);

        var finish = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish",
            new { claim_token = claimed.ClaimToken, ssim = 0.9731, psnr = FinishReport.MaxPsnr, result = JobResults.Encoded });

        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
        var finished = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.Finished, 0.9731, FinishReport.MaxPsnr, JobResults.Encoded), (finished.Status, finished.Ssim, finished.Psnr, finished.Result));
        Assert.Equal(0.9731, (await client.ListAsync("status=finished")).Single().Ssim);

        (await client.PostAsync($"/api/jobs/{job.Id}/reset", null)).EnsureSuccessStatusCode();
        var requeued = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.Pending, (double?)null, (double?)null, (string?)null), (requeued.Status, requeued.Ssim, requeued.Psnr, requeued.Result));
    }

    [Fact]
    public async Task TheInputsDynamicRangeIsKeptFromAFailureAndAFinishAndABadOneIsRefused()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var first = (await client.ClaimAsync())!;
        var bad = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = first.ClaimToken, hdr = "hdr11" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("hdr must be one of: none, hdr10, hlg, dolby_vision.", await QueueCalls.ErrorOf(bad));

        (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/fail", new
        {
            claim_token = first.ClaimToken, error = "The job cannot run as asked: the input is HDR (hdr10)", hdr = HdrKinds.Hdr10,
        })).EnsureSuccessStatusCode();
        Assert.Equal(HdrKinds.Hdr10, (await client.GetJobAsync(job.Id)).Hdr);
        (await client.PostAsync($"/api/jobs/{job.Id}/reset", null)).EnsureSuccessStatusCode();

        // A run that reports none keeps what was learnt; one that reports it again replaces it.
        var second = (await client.ClaimAsync())!;
        Assert.Equal(HdrKinds.Hdr10, second.Hdr);
        (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = second.ClaimToken, hdr = HdrKinds.DolbyVision })).EnsureSuccessStatusCode();
        Assert.Equal(HdrKinds.DolbyVision, (await client.GetJobAsync(job.Id)).Hdr);
    }

    [Fact]
    public async Task AFinishThatSaysNoResultCountsAsEncodedAndKeepsNoScoresOfAnEarlierRun()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var first = (await client.ClaimAsync())!;
        (await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = first.ClaimToken, ssim = 0.5 })).EnsureSuccessStatusCode();
        Assert.Equal(JobResults.Encoded, (await client.GetJobAsync(job.Id)).Result);
        (await client.PostAsync($"/api/jobs/{job.Id}/reset", null)).EnsureSuccessStatusCode();

        // The original service's bodiless finish: encoded, nothing measured.
        Assert.Null((await client.ClaimAsync())!.Ssim);           // the reset cleared the first run's
        (await client.PostAsync($"/api/jobs/{job.Id}/finish", null)).EnsureSuccessStatusCode();
        var finished = await client.GetJobAsync(job.Id);
        Assert.Equal((JobResults.Encoded, (double?)null), (finished.Result, finished.Ssim));
    }

    [Theory]
    [InlineData("ssim", 1.5, "ssim must be a number from 0 to 1.")]
    [InlineData("ssim", -0.1, "ssim must be a number from 0 to 1.")]
    [InlineData("ssim", "0.9", "ssim must be a number from 0 to 1.")]
    [InlineData("psnr", -1, "psnr must be a number from 0 to 1000.")]
    [InlineData("psnr", 1000.5, "psnr must be a number from 0 to 1000.")]
    [InlineData("psnr", "inf", "psnr must be a number from 0 to 1000.")]
    [InlineData("result", "skipped", "result must be one of: encoded, kept_original.")]
    [InlineData("result", 1, "result must be one of: encoded, kept_original.")]
    public async Task ABadScoreOrResultIsRefusedAndTheJobRunsOn(string field, object value, string message)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = (await client.ClaimAsync())!;

        var refused = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish",
            new Dictionary<string, object> { ["claim_token"] = claimed.ClaimToken!, [field] = value });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(message, await QueueCalls.ErrorOf(refused));
        Assert.Equal(JobStatus.InProgress, (await client.GetJobAsync(job.Id)).Status);
    }

    [Fact]
    public async Task AStoreJobThatKeptItsOriginalFinishesWithoutAnUploadAndHasNoResultToDownload()
    {
        var job = (await client.EnqueueAsync(new { upload_id = await client.UploadAsync(new byte[100], "small.mkv"), crf = "30", preset = "ultrafast", skip_if_larger = true }))[0];
        var claimed = (await client.ClaimAsync(new { media = MediaKinds.Store, encoders = new[] { EncoderCatalog.Libx264 } }))!;
        var finishUrl = $"/api/jobs/{job.Id}/finish";

        // Only kept_original may leave the upload out, and it may not name one.
        var encoded = await client.PostAsJsonAsync(finishUrl, new { claim_token = claimed.ClaimToken, result = JobResults.Encoded });
        Assert.Equal(HttpStatusCode.BadRequest, encoded.StatusCode);
        Assert.Contains("must name the upload holding the result", await QueueCalls.ErrorOf(encoded));
        var named = await client.PostAsJsonAsync(finishUrl,
            new { claim_token = claimed.ClaimToken, result = JobResults.KeptOriginal, output_upload_id = await client.UploadAsync(new byte[120], "x.mp4") });
        Assert.Equal(HttpStatusCode.BadRequest, named.StatusCode);
        Assert.Contains("kept_original names no output_upload_id", await QueueCalls.ErrorOf(named));

        var kept = await client.PostAsJsonAsync(finishUrl, new { claim_token = claimed.ClaimToken, result = JobResults.KeptOriginal, output_bytes = 120 });

        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        var finished = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.Finished, JobResults.KeptOriginal, (string?)null, 100L, 120L),
            (finished.Status, finished.Result, finished.OutputUploadId, finished.InputBytes, finished.OutputBytes));
        var download = await client.GetAsync($"/api/jobs/{job.Id}/output");
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.Equal($"Job {job.Id} has no result file: the encode was not smaller than the input; the original was kept.", await QueueCalls.ErrorOf(download));
    }

    /// <summary>The host holds a finish to the gate the job asked for: kept_original only with skip_if_larger.</summary>
    [Fact]
    public async Task AKeptOriginalFinishOfAJobWithoutSkipIfLargerIsRefusedAndTheJobRunsOn()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        var claimed = (await client.ClaimAsync())!;
        var finishUrl = $"/api/jobs/{job.Id}/finish";

        var refused = await client.PostAsJsonAsync(finishUrl, new { claim_token = claimed.ClaimToken, result = JobResults.KeptOriginal, output_bytes = 120 });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("result", await FieldOf(refused));
        Assert.Contains("skip_if_larger", await QueueCalls.ErrorOf(refused));
        var running = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.InProgress, (string?)null, (long?)null), (running.Status, running.Result, running.OutputBytes));
        (await client.PostAsJsonAsync(finishUrl, new { claim_token = claimed.ClaimToken })).EnsureSuccessStatusCode();
        Assert.Equal(JobResults.Encoded, (await client.GetJobAsync(job.Id)).Result);
    }

    /// <summary>
    /// An encoded result of a job with min_ssim and min_psnr finishes only with both scores, at the minimums or
    /// above; the original service's bodiless finish reports none, so it is refused too. A kept original was not
    /// measured and needs none; a repeated finish is answered as before.
    /// </summary>
    [Fact]
    public async Task AFinishOfAJobWithMinimumScoresMustReportThemAtTheMinimumsOrAbove()
    {
        var job = (await client.EnqueueAsync(new { file_name = "gated.mkv", crf = 23, preset = "fast", min_ssim = 0.95, min_psnr = 40 }))[0];
        var claimed = (await client.ClaimAsync(X264Claim))!;
        var finishUrl = $"/api/jobs/{job.Id}/finish";

        foreach (var (body, field) in new (object?, string)[]
                 {
                     (new { claim_token = claimed.ClaimToken }, "ssim"),
                     (null, "ssim"),
                     (new { claim_token = claimed.ClaimToken, ssim = 0.94, psnr = 45 }, "ssim"),
                     (new { claim_token = claimed.ClaimToken, ssim = 0.97 }, "psnr"),
                     (new { claim_token = claimed.ClaimToken, ssim = 0.97, psnr = 39.9 }, "psnr"),
                 })
        {
            var refused = body is null ? await client.PostAsync(finishUrl, null) : await client.PostAsJsonAsync(finishUrl, body);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{System.Text.Json.JsonSerializer.Serialize(body)}: {refused.StatusCode}");
            Assert.Equal(field, await FieldOf(refused));
            Assert.Contains($"min_{field}", await QueueCalls.ErrorOf(refused));
            Assert.Equal(JobStatus.InProgress, (await client.GetJobAsync(job.Id)).Status);
        }

        var passed = new { claim_token = claimed.ClaimToken, ssim = 0.95, psnr = 40 };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync(finishUrl, passed)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync(finishUrl, passed)).StatusCode);
        var finished = await client.GetJobAsync(job.Id);
        Assert.Equal((JobStatus.Finished, (double?)0.95, (double?)40.0), (finished.Status, finished.Ssim, finished.Psnr));

        var kept = (await client.EnqueueAsync(new { file_name = "kept.mkv", crf = 23, preset = "fast", min_ssim = 0.95, skip_if_larger = true }))[0];
        var keptClaim = (await client.ClaimAsync(X264Claim))!;
        Assert.Equal(kept.Id, keptClaim.Id);
        var keptFinish = new { claim_token = keptClaim.ClaimToken, result = JobResults.KeptOriginal, input_bytes = 100, output_bytes = 120 };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/jobs/{kept.Id}/finish", keptFinish)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/jobs/{kept.Id}/finish", keptFinish)).StatusCode);
        Assert.Equal(JobResults.KeptOriginal, (await client.GetJobAsync(kept.Id)).Result);
    }

    /// <summary>Jobs with settings of their own need a worker that names its encoders.</summary>
    private static readonly object X264Claim = new { encoders = new[] { EncoderCatalog.Libx264 } };

    private static async Task<string?> FieldOf(HttpResponseMessage response)
    {
        using var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return error.RootElement.TryGetProperty("field", out var field) ? field.GetString() : null;
    }
}
