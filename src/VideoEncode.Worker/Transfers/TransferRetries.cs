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
        if (QueueClient.IsTransient(response.StatusCode))
            throw new TransientTransferException($"the host answered {status}");
        throw new TransferFailedException($"Could not {what}: the host answered {status}: {await QueueClient.ErrorMessageAsync(response)}", retryable: false);
    }
}

/// <summary>An answer worth trying again (a 5xx): <see cref="TransferRetries"/> does.</summary>
public sealed class TransientTransferException(string message) : Exception(message);
