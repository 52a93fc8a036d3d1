using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace VideoEncode.Api.Tests;

/// <summary>One request a <see cref="WebhookReceiver"/> got.</summary>
public sealed record ReceivedDelivery(string? Signature, string? DeliveryId, string? ContentType, string Body);

/// <summary>
/// A webhook's receiver on a loopback port (HttpListener: no second ASP.NET host in the test process),
/// recording every request and answering the status <c>answer(n)</c> to the n-th (200 unless told).
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<int, int> answer;
    private int count;

    public WebhookReceiver(int? port = null, Func<int, int>? answer = null)
    {
        this.answer = answer ?? (_ => 200);
        Url = $"http://127.0.0.1:{port ?? FreePort.Find()}/hook/";
        listener.Prefixes.Add(Url);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<ReceivedDelivery> Received { get; } = new();

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                Received.Enqueue(new ReceivedDelivery(context.Request.Headers["VideoEncode-Signature"], context.Request.Headers["VideoEncode-Delivery"],
                    context.Request.ContentType, await reader.ReadToEndAsync()));
            context.Response.StatusCode = answer(Interlocked.Increment(ref count));
            context.Response.Close();
        }
    }

    public void Dispose() => listener.Close();
}
