using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace VideoEncode.Worker.Transfers;

/// <summary>
/// Sends a store job's result to the host with tus 1.0 (POST /api/uploads, then PATCHes), in chunks
/// that each carry their SHA-256 (Upload-Checksum), so a corrupted chunk is refused (460) and sent
/// again. A request that fails midway, or is refused because the upload moved on without it (409, 403: a
/// cut-off PATCH that the host received whole), goes on from the offset the host reports (HEAD). The answer is
/// the upload's id, once the host holds every byte — fsynced and renamed into place, which the host
/// does before it answers the last PATCH — so the finish that names it can follow.
/// </summary>
public sealed class ResultUpload(HttpClient http, Retries retries)
{
    public const string TusVersion = "1.0.0";

    /// <summary>Bytes per PATCH: small enough that a cut costs little, large enough that requests are few.</summary>
    private const long ChunkBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Under --transfer-limit a chunk is what the limit sends in this long, so that a cut (which loses the
    /// chunk: its checksum covers all of it) costs little.
    /// </summary>
    private static readonly TimeSpan ChunkTimeAtLimit = TimeSpan.FromSeconds(30);

    private const int ChecksumTriesPerChunk = 3;

    public async Task<string> UploadAsync(long jobId, string path, string fileName, double? bytesPerSecond, Action<TransferProgress> report,
        CancellationToken cancel)
    {
        var length = new FileInfo(path).Length;
        var location = await retries.RunAsync($"start the upload of job {jobId}'s result", token => CreateAsync(jobId, length, fileName, token), cancel);
        try
        {
            return await SendAsync(jobId, path, length, location, bytesPerSecond, report, cancel);
        }
        catch
        {
            await AbandonAsync(location);
            throw;
        }
    }

    /// <summary>
    /// Removes an upload this worker gave up on (tus termination), so its length stops counting against the
    /// host's free-space reserve; one short attempt, as the host sweeps it at its expiry anyway.
    /// </summary>
    private async Task AbandonAsync(string location)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, location);
            request.Headers.Add("Tus-Resumable", TusVersion);
            using var response = await http.SendAsync(request, limit.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // The host's sweep removes it when it expires.
        }
    }

    private async Task<string> SendAsync(long jobId, string path, long length, string location, double? bytesPerSecond, Action<TransferProgress> report,
        CancellationToken cancel)
    {
        var chunkBytes = bytesPerSecond is { } limit ? Math.Clamp((long)(limit * ChunkTimeAtLimit.TotalSeconds), 64 * 1024, ChunkBytes) : ChunkBytes;
        long offset = 0;
        var refused = 0;
        while (offset < length)
        {
            var start = offset;
            await retries.RunAsync($"upload job {jobId}'s result", async _ =>
            {
                offset = await OffsetAsync(location, cancel);
                if (offset >= length) return;
                var count = Math.Min(chunkBytes, length - offset);
                var (accepted, newOffset) = await PatchAsync(location, path, offset, count, length, bytesPerSecond, report, cancel);
                if (!accepted && ++refused >= ChecksumTriesPerChunk)
                    throw new TransferFailedException($"The host refused a chunk of the result {refused} times as corrupted (checksum mismatch).", retryable: true);
                offset = newOffset;
            }, cancel);
            if (offset > start) refused = 0;
        }
        return location[(location.LastIndexOf('/') + 1)..];
    }

    private async Task<string> CreateAsync(long jobId, long length, string fileName, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads");
        request.Headers.Add("Tus-Resumable", TusVersion);
        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Metadata", $"filename {Base64(fileName)},filetype {Base64("video/mp4")},job_id {Base64(jobId.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        request.Content = new ByteArrayContent([]);
        using var response = await http.SendAsync(request, cancel);
        if (response.StatusCode == HttpStatusCode.InsufficientStorage)
            throw new TransferFailedException($"The host has no room for the result ({await QueueClient.ErrorMessageAsync(response)}).", retryable: true);
        await TransferAnswers.ThrowIfRefusedAsync(response, "upload the result");
        var location = response.Headers.Location ?? throw new TransientException("the host's answer to the upload's creation has no Location");
        return location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString;
    }

    /// <summary>The bytes the host holds of the upload, as HEAD tells.</summary>
    private async Task<long> OffsetAsync(string location, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, location);
        request.Headers.Add("Tus-Resumable", TusVersion);
        using var response = await http.SendAsync(request, cancel);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            throw new TransferFailedException("The host forgot the result's upload before it was complete (it expired).", retryable: true);
        await TransferAnswers.ThrowIfRefusedAsync(response, "upload the result");
        return ReadOffset(response);
    }

    /// <summary>One PATCH of [offset, offset + count): accepted with the new offset, or refused as corrupted (460) with the old one.</summary>
    private async Task<(bool Accepted, long Offset)> PatchAsync(string location, string path, long offset, long count, long length,
        double? bytesPerSecond, Action<TransferProgress> report, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location);
        request.Headers.Add("Tus-Resumable", TusVersion);
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(await ChunkSha256Async(path, offset, count, cancel)));
        request.Content = new FileSliceContent(path, offset, count, new TransferPace(bytesPerSecond, length, offset, report));
        using var response = await http.SendAsync(request, cancel);
        if ((int)response.StatusCode == 460) return (false, offset);
        // 409: another offset, or a PATCH still under way; 403: the upload is complete — a PATCH of ours that was cut off
        // may have brought the last bytes and the host completed it. Neither ends the transfer: HEAD says where it stands,
        // and an offset equal to the length is the upload done.
        if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Forbidden)
            throw new TransientException($"the host answered {(int)response.StatusCode} ({await QueueClient.ErrorMessageAsync(response)}); asking it where the upload stands");
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            throw new TransferFailedException("The host forgot the result's upload before it was complete (it expired).", retryable: true);
        if (response.StatusCode == HttpStatusCode.InsufficientStorage)
            throw new TransferFailedException($"The host ran out of room for the result ({await QueueClient.ErrorMessageAsync(response)}).", retryable: true);
        await TransferAnswers.ThrowIfRefusedAsync(response, "upload the result");
        return (true, ReadOffset(response));
    }

    private static long ReadOffset(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Upload-Offset", out var values) && long.TryParse(values.FirstOrDefault(), out var offset) && offset >= 0
            ? offset
            : throw new TransientException("the host's answer has no Upload-Offset");

    private static async Task<byte[]> ChunkSha256Async(string path, long offset, long count, CancellationToken cancel)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = offset;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (var left = count; left > 0;)
        {
            var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancel);
            if (read == 0) throw new IOException("The result file ended early.");
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        return hash.GetHashAndReset();
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
