using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Events;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
public sealed class EventsTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;
    private readonly Uri address;

    public EventsTests()
    {
        address = factory.StartOnLoopback();
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    private sealed record Sse(long Id, string Type, JsonElement Data);

    [Fact]
    public async Task TheStreamDeliversClaimedProgressFinishedInOrderAndResumesFromLastEventId()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (stream, dispose) = await OpenAsync(lastEventId: null, cancel.Token);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("live.mkv")))[0];
        var claim = await client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest("encoder-1"), WireJson.Options);
        var claimed = (await claim.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
        await client.PostAsJsonAsync($"/api/jobs/{job.Id}/heartbeat", new Heartbeat(claimed.ClaimToken!, 50), WireJson.Options);

        var events = await TakeAsync(stream, 3, cancel.Token);
        // Progress is on the stream at once; on a shared store it may come before the claim, which every
        // host reads back from the database. It passes: it has no id of its own, and a resume does not replay it.
        var progress = Assert.Single(events, e => e.Type == "progress");
        Assert.Equal((50.0, 0L), (progress.Data.GetProperty("progress").GetDouble(), progress.Id));
        var first = events.Where(e => e.Type != "progress").ToList();
        Assert.Equal(["created", "claimed"], first.Select(e => e.Type));
        Assert.False(first[1].Data.TryGetProperty("claim_token", out _), "the stream must not reveal claim tokens");
        Assert.True(first[0].Id < first[1].Id);
        dispose();

        // While nobody listens the job finishes; a reconnect with Last-Event-ID gets exactly what it missed.
        await client.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new ClaimProof(claimed.ClaimToken!), WireJson.Options);
        var (resumed, disposeResumed) = await OpenAsync(first[1].Id, cancel.Token);
        var missed = await TakeAsync(resumed, 1, cancel.Token);
        Assert.Equal("finished", missed[0].Type);
        Assert.Equal(job.Id, missed[0].Data.GetProperty("id").GetInt64());
        Assert.Equal(JobStatus.Finished, missed[0].Data.GetProperty("status").GetString());

        await client.DeleteAsync($"/api/jobs/{job.Id}");
        var deleted = await TakeAsync(resumed, 1, cancel.Token);
        Assert.Equal(("deleted", job.Id), (deleted[0].Type, deleted[0].Data.GetProperty("id").GetInt64()));
        disposeResumed();
    }

    [Fact]
    public async Task AClientWhoseEventsAreGoneIsToldToReload()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        // An id this stream does not hold: long forgotten, or never issued here (another queue's stream).
        var (stream, dispose) = await OpenAsync(lastEventId: 999_999_999_999_999_999, cancel.Token);
        var reset = await TakeAsync(stream, 1, cancel.Token);
        Assert.Equal("reset", reset[0].Type);
        dispose();
    }

    [Fact]
    public async Task ProgressPassesWithoutAnIdAndAResumeSkipsIt()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = factory.GetService<JobEvents>();
        var (stream, dispose) = await OpenAsync(lastEventId: null, cancel.Token);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("passing.mkv")))[0];
        var created = (await TakeAsync(stream, 1, cancel.Token))[0];
        events.PublishTransient(new ChangeNotice("progress", JsonSerializer.Serialize(job with { Progress = 5 }, WireJson.Options),
            JobState.Pending, JobState.Pending, ChangeCause.Heartbeat));
        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var next = await TakeAsync(stream, 2, cancel.Token);
        Assert.Equal([("progress", JobEvent.NoId), ("cancelled", next[1].Id)], next.Select(e => (e.Type, e.Id)));
        Assert.NotEqual(JobEvent.NoId, next[1].Id);
        Assert.Equal(5, next[0].Data.GetProperty("progress").GetDouble());
        dispose();

        var (resumed, disposeResumed) = await OpenAsync(created.Id, cancel.Token);
        Assert.Equal(["cancelled"], (await TakeAsync(resumed, 1, cancel.Token)).Select(e => e.Type));
        disposeResumed();
    }

    /// <summary>
    /// A reader that stops reading, over a real socket. It resumes from before 400 large events, so its
    /// stream is stuck writing their replay into a full socket; then more changes than its queue holds
    /// come. It is dropped at once — nothing more is held for it — and when it reads again it gets what
    /// was on its way, then a reset under the newest id, and the end of the response.
    /// </summary>
    [Fact]
    public async Task AReaderThatStopsReadingIsDroppedWithAResetAndItsStreamEnds()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = factory.GetService<JobEvents>();
        long before;
        using (var probe = events.Subscribe(null)) before = probe.CurrentId;
        const int LargeEvents = 400; // 25 MB: more than the kernel's socket buffers hold
        var large = new ChangeNotice("updated", JsonSerializer.Serialize(new { filler = new string('x', 64 * 1024) }), JobState.Pending, JobState.Pending, ChangeCause.CancelRequest);
        for (var n = 0; n < LargeEvents; n++) events.Publish(null, large);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(address.Host, address.Port, cancel.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /api/events HTTP/1.1\r\nHost: {address.Authority}\r\n" +
            $"X-API-Key: {QueueFactory.ApiKey}\r\nLast-Event-ID: {before}\r\nConnection: close\r\n\r\n"), cancel.Token);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (!Encoding.ASCII.GetString(received.ToArray()).Contains(": connected", StringComparison.Ordinal))
            received.Write(buffer, 0, await socket.ReceiveAsync(buffer, cancel.Token));
        Assert.Equal(1, events.SubscriberCount); // subscribed before it began to write

        var small = new ChangeNotice("updated", "{}", JobState.Pending, JobState.Pending, ChangeCause.CancelRequest);
        for (var n = 0; n <= StreamQueue.Capacity; n++) events.Publish(null, small);
        Assert.Equal(0, events.SubscriberCount);
        long newest;
        using (var probe = events.Subscribe(null)) newest = probe.CurrentId;

        int read;
        while ((read = await socket.ReceiveAsync(buffer, cancel.Token)) > 0) received.Write(buffer, 0, read);
        var body = Dechunk(received.ToArray());
        Assert.Equal(LargeEvents, body.Split("event: updated\n").Length - 1);
        Assert.EndsWith($"\n\nid: {newest}\nevent: reset\ndata: {{}}\n\n", body, StringComparison.Ordinal);
    }

    /// <summary>The body of a chunked HTTP/1.1 response, read whole.</summary>
    private static string Dechunk(byte[] response)
    {
        var text = Encoding.UTF8.GetString(response);
        var at = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var body = new StringBuilder();
        while (true)
        {
            var lineEnd = text.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(text[at..lineEnd], 16);
            if (size == 0) return body.ToString();
            body.Append(text, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }

    [Fact]
    public async Task TheStreamNeedsTheKey()
    {
        var response = await factory.CreateApiClient(key: null).GetAsync("/api/events");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<(StreamReader Reader, Action Dispose)> OpenAsync(long? lastEventId, CancellationToken cancel)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        if (lastEventId is { } id) request.Headers.Add("Last-Event-ID", id.ToString());
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        // The stream opens with this comment: from here on the test's changes reach it.
        while (await reader.ReadLineAsync(cancel) is { } line && line != ": connected") { }
        return (reader, () => { response.Dispose(); http.Dispose(); });
    }

    private static async Task<List<Sse>> TakeAsync(StreamReader reader, int count, CancellationToken cancel)
    {
        var events = new List<Sse>();
        long id = 0;
        string? type = null;
        while (events.Count < count && await reader.ReadLineAsync(cancel) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..]);
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(new Sse(id, type!, JsonDocument.Parse(line[6..]).RootElement.Clone()));
                id = JobEvent.NoId; // an event without an id line has none
            }
        }
        return events;
    }
}
