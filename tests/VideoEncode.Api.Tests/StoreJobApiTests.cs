using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Jobs whose input was uploaded to the host: enqueued by upload_id, handed only to claims that take
/// store jobs (and have room for them), finished only with their result's upload.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class StoreJobApiTests : IDisposable
{
    private readonly QueueFactory host = new();
    private readonly HttpClient client;

    public StoreJobApiTests() => client = host.CreateApiClient();

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task AJobForACompleteUploadTakesItsNameSizeAndHash()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        var upload = await client.UploadAsync(bytes, "My Film.mov");

        var job = (await client.EnqueueAsync(TusCalls.StoreJob(upload)))[0];

        Assert.Equal((upload, "My Film.mov", "My Film.mp4", 10_000L), (job.UploadId, job.FileName, job.OutputName, job.InputBytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), job.InputSha256);
    }

    [Fact]
    public async Task AMissingOrUnfinishedUploadIsRefusedAndNothingIsStored()
    {
        var unfinished = await client.NewUploadAsync(100, "half.mkv");
        (await client.PatchAsync(unfinished, 0, new byte[40])).Dispose();
        var complete = await client.UploadAsync(new byte[10], "whole.mkv");

        foreach (var (body, message) in new (object, string)[]
                 {
                     (TusCalls.StoreJob(new string('a', 32)), "names no upload"),
                     (TusCalls.StoreJob(unfinished), "40 of 100 bytes"),
                     (new[] { TusCalls.StoreJob(complete), TusCalls.StoreJob(unfinished) }, "Job at index 1: upload_id"),
                     (TusCalls.StoreJob("../../etc/passwd"), "upload_id must be the id of an upload"),
                     (new { upload_id = complete, file_name = "x.mkv", crf = "23", preset = "fast" }, "file_name must be left out"),
                 })
        {
            var response = await client.PostAsJsonAsync("/api/jobs", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(message, await QueueCalls.ErrorOf(response));
        }
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task ClaimsGetOnlyTheKindOfJobTheyTakeAndStoreJobsThatFit()
    {
        var onShare = (await client.EnqueueAsync(QueueCalls.NewJob("on-share.mkv")))[0];
        var uploaded = (await client.EnqueueAsync(TusCalls.StoreJob(await client.UploadAsync(new byte[5_000], "up.mkv"))))[0];

        Assert.Null(await client.ClaimAsync(new { worker = "small", media = MediaKinds.Store, max_input_bytes = 4_999 }));
        Assert.Equal(uploaded.Id, (await client.ClaimAsync(new { worker = "store", media = MediaKinds.Store, max_input_bytes = 5_000 }))!.Id);
        Assert.Null(await client.ClaimAsync(new { worker = "store", media = MediaKinds.Store }));
        // A claim that names no kind is an older worker's: shared-folder jobs only.
        Assert.Equal(onShare.Id, (await client.ClaimAsync(new { worker = "old" }))!.Id);

        var third = (await client.EnqueueAsync(TusCalls.StoreJob(await client.UploadAsync(new byte[10], "up2.mkv"))))[0];
        Assert.Null(await client.ClaimAsync(new { worker = "old" }));
        Assert.Equal(third.Id, (await client.ClaimAsync(new { worker = "both", media = MediaKinds.Any }))!.Id);

        var bad = await client.PostAsJsonAsync("/api/jobs/claim", new { media = "nfs" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("media must be one of", await QueueCalls.ErrorOf(bad));
    }

    [Fact]
    public async Task AWaitingStoreOnlyClaimDoesNotSwallowTheWakeOfASharedFolderJob()
    {
        var storeWaiter = client.ClaimAsync(new { worker = "store", media = MediaKinds.Store, wait = 30 });
        var sharedWaiter = client.ClaimAsync(new { worker = "share", wait = 30 });
        await Eventually.TrueAsync(() => host.GetService<Changes.ClaimWaiters>().Count == 2, () => "two claims waiting");

        var job = (await client.EnqueueAsync(QueueCalls.NewJob("share.mkv")))[0];

        Assert.Equal(job.Id, (await sharedWaiter)!.Id);
        var upload = (await client.EnqueueAsync(TusCalls.StoreJob(await client.UploadAsync(new byte[10], "up.mkv"))))[0];
        Assert.Equal(upload.Id, (await storeWaiter)!.Id);
    }

    [Fact]
    public async Task AStoreJobFinishesOnlyWithACompleteUploadOfItsResultWhoseSizeItKeeps()
    {
        await client.EnqueueAsync(TusCalls.StoreJob(await client.UploadAsync(new byte[100], "in.mkv")));
        var claimed = (await client.ClaimAsync(new { worker = "w", media = MediaKinds.Store }))!;
        var token = claimed.ClaimToken!;

        var beat = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/heartbeat", new { claim_token = token, phase = "uploading", progress = 40 });
        Assert.Equal(JobPhase.Uploading, (await beat.Content.ReadFromJsonAsync<Job>(WireJson.Options))!.Phase);
        var badPhase = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/heartbeat", new { claim_token = token, phase = "dreaming" });
        Assert.Equal(HttpStatusCode.BadRequest, badPhase.StatusCode);

        var partial = await client.NewUploadAsync(50, "out.mp4");
        foreach (var body in new object[] { new { claim_token = token }, new { claim_token = token, output_upload_id = partial } })
        {
            var refused = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/finish", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("output_upload_id", await QueueCalls.ErrorOf(refused));
        }
        Assert.Equal(JobStatus.InProgress, (await client.GetJobAsync(claimed.Id)).Status);
        // The original service's bodiless finish cannot finish a store job either: there would be nothing to download.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync($"/api/jobs/{claimed.Id}/finish", null)).StatusCode);

        var result = await client.UploadAsync(new byte[64], "out.mp4");
        var finish = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/finish", new { claim_token = token, output_upload_id = result, output_bytes = 1 });
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
        var finished = await client.GetJobAsync(claimed.Id);
        Assert.Equal((JobStatus.Finished, result, 64L, 100L, (string?)null), (finished.Status, finished.OutputUploadId, finished.OutputBytes, finished.InputBytes, finished.Phase));
    }

    [Fact]
    public async Task ASharedFolderJobKeepsTheSizesItsWorkerReports()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        var claimed = (await client.ClaimAsync(new { worker = "w" }))!;
        var finish = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/finish", new { claim_token = claimed.ClaimToken, input_bytes = 1000, output_bytes = 250 });
        Assert.Equal(HttpStatusCode.OK, finish.StatusCode);
        var finished = await client.GetJobAsync(claimed.Id);
        Assert.Equal((1000L, 250L), (finished.InputBytes, finished.OutputBytes));
    }
}
