using System.Net;
using System.Text;

namespace VideoEncode.Worker.Tests;

/// <summary>A host in a box: answers each request with the next step of a script; the last step repeats.</summary>
internal sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] steps) : HttpMessageHandler
{
    private readonly List<(string Path, string Body)> requests = [];

    /// <summary>The paths asked for, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get { lock (requests) return requests.Select(request => request.Path).ToList(); }
    }

    /// <summary>The request bodies, in order ("" for none).</summary>
    public IReadOnlyList<string> Bodies
    {
        get { lock (requests) return requests.Select(request => request.Body).ToList(); }
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        int count;
        lock (requests)
        {
            requests.Add((request.RequestUri!.AbsolutePath, body));
            count = requests.Count;
        }
        return steps[Math.Min(count - 1, steps.Length - 1)](request);
    }
}
