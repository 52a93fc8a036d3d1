using System.Net;
using System.Net.Http.Json;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// The host on a real loopback port that the worker end-to-end classes (<see cref="WorkerEndToEndTests"/>,
/// <see cref="EncodeSettingsEndToEndTests"/>, <see cref="QualityGateEndToEndTests"/>) run real worker
/// processes against: started once for a class rather than for each test. A test starts from an empty
/// queue (<see cref="EmptyQueueAsync"/>), so a job another test left behind is never claimed by its worker.
/// </summary>
public sealed class EndToEndHost : IDisposable
{
    public QueueFactory Host { get; } = new();
    public Uri Server { get; }
    public HttpClient Client { get; }

    public EndToEndHost()
    {
        Server = Host.StartOnLoopback();
        Client = Host.CreateApiClient();
    }

    public async Task EmptyQueueAsync()
    {
        // A job a failed test left in progress (its worker killed with the test) is put back first, so it
        // can be deleted: one failure stays one failure instead of failing every test after it.
        var reset = await Client.PostAsJsonAsync("/api/jobs/bulk", new { action = "reset", status = "in_progress" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var deleted = await Client.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", status = "all" });
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Empty(await Client.ListAsync());
    }

    public void Dispose() => Host.Dispose();
}
