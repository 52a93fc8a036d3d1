using System.Net;
using System.Text.Json;

namespace VideoEncode.Worker.Transfers;

/// <summary>
/// Runs one step of a transfer until it succeeds: a refused or reset connection, a body cut off, a
/// silent connection or a 5xx is worth another try after a pause that doubles up to 30 s; a
/// <see cref="TransferFailedException"/>, a local file error (a full scratch disk: the job's attempt
/// fails, retryable) or the caller's cancellation ends it. The step itself goes on from where the last
/// try left off (Range for downloads, the tus offset for uploads).
/// </summary>
public sealed class TransferRetries(ConsoleOutput console)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public async Task RunAsync(string what, Func<Task> step, CancellationToken cancel)
    {
        var delay = FirstDelay;
        while (true)
        {
            try
            {
                await step();
                return;
            }
            catch (Exception e) when (e is HttpRequestException or HttpIOException or TransientTransferException
                                      || e is TaskCanceledException && !cancel.IsCancellationRequested)
            {
                console.Warn($"Could not {what} ({e.Message}); going on from where it stopped in {delay.TotalSeconds:0.#} s.");
            }
            await Task.Delay(delay, cancel);
            delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, delay.Ticks * 2));
        }
    }

    /// <summary>A 5xx, 408 or 429 is passing (<see cref="TransientTransferException"/>); any other refusal ends the transfer.</summary>
    public static async Task ThrowIfRefusedAsync(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            throw new TransientTransferException($"the host answered {status}");
        throw new TransferFailedException($"Could not {what}: the host answered {status}: {await ErrorAsync(response)}", retryable: false);
    }

    /// <summary>The host's {"error": …} message, or the body as it is.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var error) && error.GetString() is { } message) return message;
        }
        catch (JsonException) { }
        return body.Length > 300 ? body[..300] : body;
    }
}

/// <summary>An answer worth trying again (a 5xx): <see cref="TransferRetries"/> does.</summary>
public sealed class TransientTransferException(string message) : Exception(message);
