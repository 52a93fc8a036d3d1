using System.Net;
using Microsoft.Extensions.Time.Testing;
using VideoEncode.Worker.Transfers;

namespace VideoEncode.Worker.Tests;

/// <summary>The result's tus upload against a host in a box: how a retried PATCH reads the host's refusals.</summary>
public sealed class ResultUploadTests : IAsyncDisposable
{
    private const string Location = "/api/uploads/0123456789abcdef0123456789abcdef";
    private readonly FakeTimeProvider time = new();
    private readonly ConsoleOutput console = new(new StringWriter(), live: false);
    private readonly string file = Path.GetTempFileName();

    public async ValueTask DisposeAsync()
    {
        await console.DisposeAsync();
        File.Delete(file);
    }

    /// <summary>
    /// The last PATCH is cut off after the host has every byte, while it completes the upload: the retry's HEAD still
    /// reads the old offset, its PATCH meets a PATCH under way (409), the next one a complete upload (403). Both mean
    /// "ask HEAD again", and HEAD's offset == length is the upload done — never a failed job, never a DELETE of the result.
    /// </summary>
    [Fact]
    public async Task ARetriedLastPatchThatFindsTheUploadBusyOrCompleteAsksHeadAgainAndIsDone()
    {
        await File.WriteAllBytesAsync(file, new byte[10]);
        var host = new TusHostInABox(
            (HttpMethod.Post, _ => Answer(HttpStatusCode.Created)),
            (HttpMethod.Head, _ => Answer(HttpStatusCode.OK, offset: 0)),
            (HttpMethod.Patch, _ => throw new HttpRequestException("Connection reset by peer")),
            (HttpMethod.Head, _ => Answer(HttpStatusCode.OK, offset: 0)),
            (HttpMethod.Patch, _ => Answer(HttpStatusCode.Conflict)),
            (HttpMethod.Head, _ => Answer(HttpStatusCode.OK, offset: 0)),
            (HttpMethod.Patch, _ => Answer(HttpStatusCode.Forbidden)),
            (HttpMethod.Head, _ => Answer(HttpStatusCode.OK, offset: 10)));
        using var http = new HttpClient(host) { BaseAddress = new Uri("http://host.invalid") };
        var upload = new ResultUpload(http, new Retries(console, time));

        var running = upload.UploadAsync(7, file, "out.mp4", bytesPerSecond: null, _ => { }, CancellationToken.None);
        for (var turn = 0; !running.IsCompleted && turn < 20_000; turn++)
        {
            time.Advance(Retries.MaxDelay);
            await Task.Delay(1);
        }

        Assert.Equal("0123456789abcdef0123456789abcdef", await running);
        Assert.Equal(["POST", "HEAD", "PATCH", "HEAD", "PATCH", "HEAD", "PATCH", "HEAD"], host.Methods);
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, long? offset = null)
    {
        var response = ScriptedHandler.Json(status, """{"error": "scripted"}""");
        response.Headers.Add("Tus-Resumable", ResultUpload.TusVersion);
        if (status == HttpStatusCode.Created) response.Headers.Location = new Uri(Location, UriKind.Relative);
        if (offset is { } at) response.Headers.Add("Upload-Offset", at.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return response;
    }

    /// <summary>Answers each request with the next step of the script, which names the method it expects; anything off the script is 400 (which ends the transfer).</summary>
    private sealed class TusHostInABox(params (HttpMethod Method, Func<HttpRequestMessage, HttpResponseMessage> Answer)[] script) : HttpMessageHandler
    {
        private readonly List<string> methods = [];

        public IReadOnlyList<string> Methods
        {
            get { lock (methods) return methods.ToList(); }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null) await request.Content.ReadAsByteArrayAsync(cancellationToken);
            int step;
            lock (methods)
            {
                methods.Add(request.Method.Method);
                step = methods.Count - 1;
            }
            if (step >= script.Length || script[step].Method != request.Method)
                return Answer(HttpStatusCode.BadRequest);
            return script[step].Answer(request);
        }
    }
}
