using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Transfers;

/// <summary>
/// Fetches a store job's input (GET /api/jobs/{id}/input) into the scratch folder. A download cut off
/// goes on from the bytes already on disk (Range, with If-Range on the input's ETag so a changed file
/// starts over); a refused connection or a 5xx is tried again (<see cref="Retries"/>) until the claim
/// ends. The finished file must match the SHA-256 the host recorded, or it is fetched once more whole.
/// </summary>
public sealed class InputDownload(HttpClient http, Retries retries)
{
    public async Task DownloadAsync(Job job, string path, double? bytesPerSecond, Action<TransferProgress> report, CancellationToken cancel)
    {
        for (var whole = 1; ; whole++)
        {
            await FetchAsync($"/api/jobs/{job.Id}/input", $"the input of job {job.Id}", job.InputBytes, job.InputSha256, path, bytesPerSecond, report, cancel);
            if (job.InputSha256 is not { } expected || await Sha256Async(path, cancel) == expected) return;
            File.Delete(path);
            if (whole == 2)
                throw new TransferFailedException($"The downloaded input does not match the host's SHA-256 ({expected}) twice; the transfer corrupts it.", retryable: true);
        }
    }

    /// <summary>
    /// Fetches the result a finished task uploaded (GET /api/jobs/{task}/output): a split job's part, for the worker that
    /// joins them. Resumed like an input; a part the host no longer holds fails this attempt, not the job.
    /// </summary>
    public Task DownloadResultAsync(long taskId, string path, double? bytesPerSecond, Action<TransferProgress> report, CancellationToken cancel) =>
        FetchAsync($"/api/jobs/{taskId}/output", $"the result of task {taskId}", null, null, path, bytesPerSecond, report, cancel, missingIsFinal: false);

    private Task FetchAsync(string url, string what, long? totalBytes, string? sha256, string path, double? bytesPerSecond, Action<TransferProgress> report,
        CancellationToken cancel, bool missingIsFinal = true) =>
        retries.RunAsync($"download {what}", async _ =>
        {
            var have = File.Exists(path) ? new FileInfo(path).Length : 0;
            if (totalBytes is { } total && have == total) return;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
                if (sha256 is { } sha) request.Headers.IfRange = new RangeConditionHeaderValue($"\"{sha}\"");
            }
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new TransferFailedException($"The host no longer holds {what} ({await QueueClient.ErrorMessageAsync(response)}).", retryable: !missingIsFinal);
            // A range past the end: the file is all here already.
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0) return;
            await TransferAnswers.ThrowIfRefusedAsync(response, $"download {what}");
            // 206 carries the rest; 200 the whole file, from the start (the host ignored or refused the range).
            var append = response.StatusCode == HttpStatusCode.PartialContent;
            var length = response.Content.Headers.ContentLength;
            var expectedTotal = append ? have + (length ?? 0) : length ?? totalBytes ?? 0;
            await using var file = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using var body = await response.Content.ReadAsStreamAsync(cancel);
            var pace = new TransferPace(bytesPerSecond, expectedTotal, append ? have : 0, report);
            await pace.CopyAsync(body, file, length, cancel);
        }, cancel);

    internal static async Task<string> Sha256Async(string path, CancellationToken cancel)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancel));
    }
}
