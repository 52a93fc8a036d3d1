using System.Net;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace VideoEncode.Worker;

/// <summary>
/// The worker's one retry policy, for its queue calls (<see cref="QueueClient"/>) and its media transfers
/// (<see cref="Transfers.InputDownload"/>, <see cref="Transfers.ResultUpload"/>): a step that fails for a
/// passing reason — a refused or reset connection, a body cut off, a garbled answer, a timeout that is not
/// the caller's, a 5xx, 408 or 429 (<see cref="TransientException"/>) — is tried again after a pause that
/// starts at half a second and doubles up to 30 s (or the caller's lower cap), until it succeeds or the
/// caller cancels. Anything else ends it at once: a refusal (another 4xx), a lost claim, a local file
/// error. The pauses are the policy's own: a Retry-After from the host is not read. Heartbeats are not
/// retried at all (<see cref="QueueClient.HeartbeatAsync"/>): the next beat is the retry.
/// </summary>
public sealed class Retries(ConsoleOutput console, TimeProvider time)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="step"/> until it succeeds, pausing between tries as the policy says, at most
    /// <paramref name="maxDelay"/> (when shorter than <see cref="MaxDelay"/>). A step that resumes (a
    /// download with Range, an upload from the host's offset) goes on from where the last try left off.
    /// </summary>
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> step, CancellationToken cancel, TimeSpan? maxDelay = null)
    {
        var retried = false;
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } failure && IsTransient(failure, cancel)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            Delay = FirstDelay,
            MaxDelay = maxDelay is { } cap && cap < MaxDelay ? cap : MaxDelay,
            OnRetry = args =>
            {
                retried = true;
                console.Warn($"Could not {what} ({args.Outcome.Exception!.Message}); retrying in {args.RetryDelay.TotalSeconds:0.#} s.");
                return ValueTask.CompletedTask;
            },
        }).Build();
        var result = await pipeline.ExecuteAsync(async token => await step(token), cancel);
        if (retried) console.Info($"The host is back; {what} went through.");
        return result;
    }

    public Task RunAsync(string what, Func<CancellationToken, Task> step, CancellationToken cancel, TimeSpan? maxDelay = null) =>
        RunAsync(what, async token =>
        {
            await step(token);
            return true;
        }, cancel, maxDelay);

    /// <summary>An answer worth trying again: a 5xx, 408 or 429.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>
    /// A failure worth trying again: a refused or reset connection, an answer cut off mid-body, a garbled
    /// answer, a passing answer (<see cref="TransientException"/>), or a timeout — unless the caller cancelled.
    /// A local file error (an IOException that is not the connection's) is not: a full scratch disk fails the attempt.
    /// </summary>
    private static bool IsTransient(Exception failure, CancellationToken cancel) =>
        failure is HttpRequestException or HttpIOException or JsonException or TransientException
        || failure is TaskCanceledException && !cancel.IsCancellationRequested;
}

/// <summary>A failure that passes (a 5xx, a silent or cut connection): <see cref="Retries"/> tries the step again.</summary>
public sealed class TransientException(string message) : Exception(message);
