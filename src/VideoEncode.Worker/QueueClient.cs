using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Worker;

/// <summary>The host said no for good (a 4xx other than "no jobs"): retrying would not help.</summary>
public sealed class QueueRejectedException(HttpStatusCode status, string message)
    : Exception($"the host answered {(int)status}: {message}")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The worker's only way to the queue: HTTP calls to the host. Transient failures — a refused
/// connection, a timeout, a 5xx — are retried (<see cref="Retries"/>) until they succeed or the
/// caller gives up through its cancellation token, so a claimed job's result is never dropped
/// because the host restarted. Heartbeats are the exception: one attempt each (see
/// <see cref="HeartbeatAsync"/>).
/// It is also where the host's order to drain this worker arrives — in a claim's 404 or a
/// heartbeat's answer — and becomes <see cref="Drained"/>.
/// </summary>
/// <param name="retries">The retry policy; by default on the system's clock.</param>
public sealed class QueueClient(HttpClient http, ConsoleOutput console, Retries? retries = null)
{
    private readonly Retries retries = retries ?? new Retries(console, TimeProvider.System);
    private readonly CancellationTokenSource drain = new();
    private readonly CancellationTokenSource refused = new();
    private int drainOrdered;

    /// <summary>
    /// Fires when the host says this worker is being drained: claim nothing more, let the running
    /// encodes finish, then exit (with 0, so a service manager that restarts on failure leaves it stopped).
    /// </summary>
    public CancellationToken Drained => drain.Token;

    /// <summary>
    /// Fires when the host refuses this worker's version (426 to a claim): its message, naming both versions
    /// and which to upgrade, is printed, running encodes finish, and the worker exits with 2 — it does not retry,
    /// as no retry could succeed. <see cref="RefusedVersion"/> holds the message.
    /// </summary>
    public CancellationToken VersionRefused => refused.Token;

    public string? RefusedVersion { get; private set; }

    /// <param name="timeout">
    /// How long a request may take in all: by default longer than the longest claim wait, so a long
    /// poll is never mistaken for a dead host. Transfers of media pass none and watch for silence instead.
    /// </param>
    public static HttpClient CreateHttpClient(WorkerSettings settings, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = settings.Server, Timeout = timeout ?? TimeSpan.FromSeconds(ClaimRequest.MaxWaitSeconds + 30) };
        http.DefaultRequestHeaders.Add("X-API-Key", settings.ApiKey);
        // Every request says which worker, version and protocol sends it; a host that cannot serve that protocol refuses the claim with 426.
        http.DefaultRequestHeaders.TryAddWithoutValidation(Versions.WorkerHeader, Versions.WorkerHeaderValue(settings.Name));
        return http;
    }

    /// <summary>One attempt, no retries: is the host there, and does it accept our key? Null when so.</summary>
    public async Task<string?> CheckAccessAsync(CancellationToken cancel)
    {
        try
        {
            using var response = await http.GetAsync("/api/jobs?limit=1", cancel);
            return response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => "the host rejected the API key",
                _ when response.IsSuccessStatusCode => null,
                _ => $"the host answered {(int)response.StatusCode} to a test request",
            };
        }
        catch (HttpRequestException e)
        {
            return $"cannot reach the host at {http.BaseAddress}: {e.Message}";
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return $"the host at {http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0} s";
        }
    }

    /// <summary>
    /// The next job, or null when the queue has none to give within <paramref name="wait"/>
    /// (a long poll: the host answers the moment a job arrives). Cancelling <paramref name="stop"/>
    /// abandons the wait; in the rare case the host had just handed us a job, it sees us gone and
    /// gives the job back at once.
    /// </summary>
    public Task<Job?> ClaimAsync(string worker, TimeSpan wait, CancellationToken stop, string media = MediaKinds.Shared, long? maxInputBytes = null,
        IReadOnlyList<string>? encoders = null) =>
        SendAsync("claim", () => new HttpRequestMessage(HttpMethod.Post, "/api/jobs/claim")
        {
            Content = JsonContent.Create(new ClaimRequest(worker, wait.TotalSeconds, media, maxInputBytes, encoders), options: WireJson.Options),
        }, async response => response.StatusCode == HttpStatusCode.NotFound ? await NoJobAsync(response) : await ReadJobAsync(response),
            stop, notFoundIsAnAnswer: true);

    /// <summary>
    /// A claim's 404: no job — because the queue is empty or paused (ask again), or because this
    /// worker is being drained. A body that is not the host's (a proxy's page) is still "no job", as it always was.
    /// </summary>
    private async Task<Job?> NoJobAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            if (JsonSerializer.Deserialize<NoJob>(body, WireJson.Options)?.Drain == true) OrderedToDrain();
        }
        catch (JsonException) { }
        return null;
    }

    private void RefuseVersion(string message)
    {
        lock (refused)
        {
            if (RefusedVersion is not null) return;
            RefusedVersion = message;
        }
        refused.Cancel();
    }

    private void OrderedToDrain()
    {
        if (Interlocked.Exchange(ref drainOrdered, 1) == 1) return;
        console.Info("The host is draining this worker: running encodes will finish, no new jobs will be claimed, then the worker exits.");
        drain.Cancel();
    }

    /// <summary>
    /// One attempt to renew the lease and report progress, given up after <paramref name="timeout"/>.
    /// Unlike the other steps it is not retried here: a heartbeat is only worth sending now, and
    /// the next one follows within a second anyway.
    /// </summary>
    public async Task<HeartbeatAnswer> HeartbeatAsync(long id, Heartbeat report, TimeSpan timeout, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(Post($"/api/jobs/{id}/heartbeat", report), limit.Token);
            if (response.IsSuccessStatusCode)
            {
                var job = await ReadJobAsync(response);
                if (job?.Drain == true) OrderedToDrain();
                return new HeartbeatAnswer.Renewed(job?.CancelRequested == true);
            }
            return response.StatusCode switch
            {
                HttpStatusCode.BadRequest => new HeartbeatAnswer.Refused(await ErrorMessageAsync(response)),
                HttpStatusCode.Conflict or HttpStatusCode.NotFound =>
                    new HeartbeatAnswer.Lost($"the host answered {(int)response.StatusCode}: {await ErrorMessageAsync(response)}"),
                _ => new HeartbeatAnswer.Unanswered($"the host answered {(int)response.StatusCode}"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            return new HeartbeatAnswer.Unanswered(e.Message);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return new HeartbeatAnswer.Unanswered($"no answer within {timeout.TotalSeconds:0.#} s");
        }
    }

    // A result is retried at least every maxRetryDelay: the claim's owner passes a third of its lease,
    // so after a host outage the result lands within the grace the restarted host gives leases.

    public Task FinishAsync(long id, FinishReport report, CancellationToken cancel, TimeSpan? maxRetryDelay = null) =>
        SendAsync($"finish job {id}", () => Post($"/api/jobs/{id}/finish", report), ReadJobAsync, cancel, maxRetryDelay);

    public Task FailAsync(long id, FailureReport report, CancellationToken cancel, TimeSpan? maxRetryDelay = null) =>
        SendAsync($"report job {id} failed", () => Post($"/api/jobs/{id}/fail", report), ReadJobAsync, cancel, maxRetryDelay);

    /// <summary>Gives the job back to the queue untouched.</summary>
    public Task ReleaseAsync(long id, string token, CancellationToken cancel, TimeSpan? maxRetryDelay = null) =>
        SendAsync($"give job {id} back", () => Post($"/api/jobs/{id}/release", new ClaimProof(token)), ReadJobAsync, cancel, maxRetryDelay);

    /// <summary>Confirms a requested cancel: the encode has stopped.</summary>
    public Task AcknowledgeCancelAsync(long id, string token, CancellationToken cancel, TimeSpan? maxRetryDelay = null) =>
        SendAsync($"confirm job {id} cancelled", () => Post($"/api/jobs/{id}/cancel", new ClaimProof(token)), ReadJobAsync, cancel, maxRetryDelay);

    private static HttpRequestMessage Post<T>(string path, T body) =>
        new(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: WireJson.Options) };

    private static async Task<Job?> ReadJobAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<Job>(WireJson.Options);

    /// <param name="notFoundIsAnAnswer">A 404 is an answer to read (a claim's "no jobs"), not a refusal.</param>
    private Task<T> SendAsync<T>(string what, Func<HttpRequestMessage> request,
        Func<HttpResponseMessage, Task<T>> read, CancellationToken cancel, TimeSpan? maxRetryDelay = null, bool notFoundIsAnAnswer = false) =>
        retries.RunAsync(what, async token =>
        {
            using var response = await http.SendAsync(request(), token);
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound && notFoundIsAnAnswer) return await read(response);
            if (Retries.IsTransient(response.StatusCode)) throw new TransientException($"the host answered {(int)response.StatusCode}");
            var message = await ErrorMessageAsync(response);
            if (response.StatusCode == HttpStatusCode.UpgradeRequired) RefuseVersion(message);
            throw new QueueRejectedException(response.StatusCode, message);
        }, cancel, maxRetryDelay);

    /// <summary>The host's {"error": …} message, or the answer's body as it is (a proxy's page, say).</summary>
    internal static async Task<string> ErrorMessageAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var error)) return error.GetString() ?? body;
        }
        catch (JsonException) { }
        return body;
    }
}
