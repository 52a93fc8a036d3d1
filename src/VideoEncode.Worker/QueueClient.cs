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
/// connection, a timeout, a 5xx — are retried with exponential backoff until they succeed or the
/// caller gives up through its cancellation token, so a claimed job's result is never dropped
/// because the host restarted.
/// </summary>
public sealed class QueueClient(HttpClient http, ConsoleOutput console)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    public static HttpClient CreateHttpClient(WorkerSettings settings)
    {
        var http = new HttpClient { BaseAddress = settings.Server, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-API-Key", settings.ApiKey);
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
    /// The next job, or null when the queue has none to give. <paramref name="stopRetrying"/> ends
    /// the waits between retries but never a claim in flight: the host may already have handed us
    /// the job, and cancelling the request would lose it.
    /// </summary>
    public Task<Job?> ClaimAsync(CancellationToken stopRetrying, CancellationToken abort) =>
        SendAsync("claim", () => new HttpRequestMessage(HttpMethod.Post, "/api/jobs/claim"), async response =>
            response.StatusCode == HttpStatusCode.NotFound ? null : await ReadJobAsync(response), abort, stopRetrying);

    public Task FinishAsync(long id, CancellationToken cancel) =>
        SendAsync($"finish job {id}", () => new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{id}/finish"), ReadJobAsync, cancel);

    public Task FailAsync(long id, FailureReport report, CancellationToken cancel) =>
        SendAsync($"report job {id} failed", () => new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{id}/fail")
        {
            Content = JsonContent.Create(report, options: WireJson.Options),
        }, ReadJobAsync, cancel);

    /// <summary>Gives a job back to the queue, unstarted.</summary>
    public Task ResetAsync(long id, CancellationToken cancel) =>
        SendAsync($"put job {id} back", () => new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{id}/reset"), ReadJobAsync, cancel);

    private static async Task<Job?> ReadJobAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<Job>(WireJson.Options);

    private async Task<T> SendAsync<T>(string what, Func<HttpRequestMessage> request,
        Func<HttpResponseMessage, Task<T>> read, CancellationToken cancel, CancellationToken? stopRetrying = null)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            try
            {
                using var response = await http.SendAsync(request(), cancel);
                if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound && what == "claim")
                {
                    if (attempt > 1) console.Info($"The host is back; {what} went through.");
                    return await read(response);
                }
                if (!IsTransient(response.StatusCode))
                    throw new QueueRejectedException(response.StatusCode, await ErrorMessageAsync(response));
                failure = $"the host answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                failure = $"no answer within {http.Timeout.TotalSeconds:0} s";
            }
            console.Warn($"Could not {what} ({failure}); retrying in {delay.TotalSeconds:0.#} s.");
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel, stopRetrying ?? CancellationToken.None))
                await Task.Delay(delay, wait.Token);
            delay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, delay.Ticks * 2));
        }
    }

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response)
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
