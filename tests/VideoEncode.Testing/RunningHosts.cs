namespace VideoEncode.Testing;

/// <summary>
/// The host processes one test starts, each with a client that sends the API key: a test asks for as
/// many hosts as it needs (several on one PostgreSQL database) and disposing this stops them all.
/// </summary>
public sealed class RunningHosts(TimeSpan clientTimeout) : IDisposable
{
    private readonly List<HostProcess> hosts = [];
    private readonly List<HttpClient> clients = [];

    /// <summary>Starts a host on <paramref name="database"/> on a free port, with VIDEOENCODE_ <paramref name="settings"/>.</summary>
    public async Task<(HostProcess Host, HttpClient Client)> StartAsync(string database, params (string Name, string Value)[] settings)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}/");
        var host = await HostProcess.StartAsync(address, database, settings);
        hosts.Add(host);
        var client = new HttpClient { BaseAddress = address, Timeout = clientTimeout };
        client.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        clients.Add(client);
        return (host, client);
    }

    public void Dispose()
    {
        foreach (var client in clients) client.Dispose();
        foreach (var host in hosts) host.Dispose();
    }
}
