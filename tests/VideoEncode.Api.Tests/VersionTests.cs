using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// Versions: GET /api/version answers without a key; a worker whose protocol the host cannot serve is
/// refused with 426 naming both versions and what to upgrade, and nothing is claimed; a client that sends
/// no version (the original service's) is served as before; the workers list shows each worker's version
/// and marks those that differ from the host's.
/// </summary>
[Trait("Store", TestStore.Contract)]
public sealed class VersionTests : IDisposable
{
    private readonly QueueFactory host = new();

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task TheVersionIsAnsweredWithoutAKey()
    {
        using var anonymous = host.CreateApiClient(key: null);
        using var answer = await anonymous.GetAsync("/api/version");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(Versions.Product, body.RootElement.GetProperty("version").GetString());
        Assert.Equal(Versions.Protocol, body.RootElement.GetProperty("protocol").GetInt32());
        // The last step of the store's schema file: 15 for SQLite's, 10 for PostgreSQL's when this was written.
        Assert.True(body.RootElement.GetProperty("schema").GetInt32() >= 10);
        // Only that path: its neighbours still need the key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/version/x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/jobs")).StatusCode);
    }

    [Fact]
    public async Task AnOldProtocolWorkerIsRefusedWithBothVersionsAndNothingIsClaimed()
    {
        var client = host.CreateApiClient();
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("a.mkv")))[0];

        using var refused = await ClaimWithHeader(client, $"old-box/0.9.0/{Versions.MinWorkerProtocol - 1}");
        Assert.Equal(HttpStatusCode.UpgradeRequired, refused.StatusCode);
        var mismatch = (await refused.Content.ReadFromJsonAsync<VersionMismatch>(WireJson.Options))!;
        Assert.Contains("0.9.0", mismatch.Error);
        Assert.Contains(Versions.Product, mismatch.Error);
        Assert.Contains("upgrade the worker", mismatch.Error);
        Assert.Equal(("0.9.0", Versions.MinWorkerProtocol - 1, Versions.Product, Versions.Protocol),
            (mismatch.WorkerVersion, mismatch.WorkerProtocol, mismatch.HostVersion, mismatch.HostProtocol));
        Assert.Equal("pending", (await client.GetJobAsync(job.Id)).Status);
    }

    [Fact]
    public async Task ANewerProtocolWorkerIsToldToUpgradeTheHost()
    {
        var client = host.CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"));

        using var refused = await ClaimWithHeader(client, $"new-box/99.0.0/{Versions.Protocol + 1}");
        Assert.Equal(HttpStatusCode.UpgradeRequired, refused.StatusCode);
        Assert.Contains("upgrade the host to 99.0.0", await QueueCalls.ErrorOf(refused));
    }

    [Fact]
    public async Task AnUnreadableWorkerHeaderIsABadRequest()
    {
        var client = host.CreateApiClient();
        using var bad = await ClaimWithHeader(client, "just-a-name");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains(Versions.WorkerHeader, await QueueCalls.ErrorOf(bad));
    }

    [Fact]
    public async Task TheWorkersListShowsEachVersionAndMarksThoseThatDiffer()
    {
        var client = host.CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv"));

        Assert.Equal(HttpStatusCode.OK, (await ClaimWithHeader(client, Versions.WorkerHeaderValue("same"), worker: "same")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ClaimWithHeader(client, $"older/0.1.0/{Versions.Protocol}", worker: "older")).StatusCode);
        // The original service's clients send no header, and are served as before.
        Assert.NotNull(await client.ClaimAsync(new { worker = "plain" }));

        var workers = (await client.GetFromJsonAsync<List<WorkerInfo>>("/api/workers", WireJson.Options))!.ToDictionary(worker => worker.Name);
        Assert.Equal((Versions.Product, false), (workers["same"].Version, workers["same"].VersionDiffers));
        Assert.Equal(("0.1.0", true), (workers["older"].Version, workers["older"].VersionDiffers));
        Assert.Equal((null, false), (workers["plain"].Version, workers["plain"].VersionDiffers));
    }

    private static Task<HttpResponseMessage> ClaimWithHeader(HttpClient client, string header, string worker = "w1")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs/claim") { Content = JsonContent.Create(new { worker }) };
        request.Headers.TryAddWithoutValidation(Versions.WorkerHeader, header);
        return client.SendAsync(request);
    }
}
