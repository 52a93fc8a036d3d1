using System.Text;

namespace VideoEncode.Bench;

/// <summary>Which client the simulated workers use: the bench's own lean one, or HttpClient as a real worker does.</summary>
public enum BenchClient { Lean, HttpClient }

/// <summary>One simulated worker's connection to a host: one request at a time, the status and the body back.</summary>
public interface IBenchConnection : IAsyncDisposable
{
    Task<(int Status, string Body)> SendAsync(string method, string path, string? json = null);
}

/// <summary>Opens a connection of the client asked for.</summary>
public static class BenchConnection
{
    public static async Task<IBenchConnection> OpenAsync(BenchClient client, Uri address, string apiKey, int leanBufferBytes = 64 * 1024) =>
        client == BenchClient.Lean
            ? await LeanHttpConnection.OpenAsync(address, apiKey, leanBufferBytes)
            : new HttpClientConnection(address, apiKey);
}

/// <summary>
/// HttpClient on a handler of its own (so one connection of its own), as the worker console and most
/// clients use it: the headers parsed into collections, the body read into a string. It costs the client
/// far more CPU per request than <see cref="LeanHttpConnection"/>, and sends what a real client sends, so
/// the host is measured as real workers meet it.
/// </summary>
public sealed class HttpClientConnection : IBenchConnection
{
    private readonly HttpClient http;

    public HttpClientConnection(Uri address, string apiKey)
    {
        http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = address,
            // Longer than any long poll the bench asks for.
            Timeout = TimeSpan.FromMinutes(2),
        };
        http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
    }

    public async Task<(int Status, string Body)> SendAsync(string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        try
        {
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e) when (e.InnerException is IOException or System.Net.Sockets.SocketException)
        {
            // The same failure the lean client reports: the connection is gone.
            throw new IOException(e.Message, e);
        }
    }

    public ValueTask DisposeAsync()
    {
        http.Dispose();
        return ValueTask.CompletedTask;
    }
}
