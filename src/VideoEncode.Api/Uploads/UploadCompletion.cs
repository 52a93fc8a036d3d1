using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// Completing an upload whose last byte is stored and flushed: its SHA-256 (from the running hash, or
/// read from the file), the rename <c>uploads/{id}.part</c> → <c>files/{id}</c>, a flush of the folder so
/// the rename survives a power cut, and only then completed_at and sha256 in the row.
///
/// A crash between the rename and the row leaves a row that says "unfinished" and a whole file in
/// <c>files/</c> with no <c>.part</c>: <see cref="TryRecoverAsync"/> (called by HEAD and PATCH) finishes
/// that completion, so the client sees an upload at its full length, complete.
/// </summary>
public sealed class UploadCompletion(MediaStore media, UploadStore store, TimeProvider clock, IOptions<QueueOptions> options, ILogger<UploadCompletion> logger)
{
    private const int ReadBufferBytes = 1024 * 1024;

    /// <summary>
    /// Completes <paramref name="upload"/>, whose <c>.part</c> holds all its bytes, flushed.
    /// <paramref name="sha256"/>: the whole file's hash when already known.
    /// </summary>
    public async Task<Upload> CompleteAsync(Upload upload, byte[]? sha256)
    {
        var part = media.PartPath(upload.Id);
        var hash = Convert.ToHexStringLower(sha256 ?? await HashAsync(part));
        File.Move(part, media.CompletedPath(upload.Id), overwrite: true);
        Durable.FlushFolder(media.CompletedRoot);
        return await MarkCompleteAsync(upload, hash);
    }

    /// <summary>The completion of an upload whose rename happened but whose row was not updated (a crash between them); null when that is not the case.</summary>
    public async Task<Upload?> TryRecoverAsync(Upload upload)
    {
        var final = media.CompletedPath(upload.Id);
        if (upload.IsComplete || File.Exists(media.PartPath(upload.Id)) || !File.Exists(final)) return null;
        if (new FileInfo(final).Length != upload.Length)
        {
            logger.LogWarning("Upload {Id} has a completed file of {Actual} bytes where {Length} were expected; it is left unfinished.",
                upload.Id, new FileInfo(final).Length, upload.Length);
            return null;
        }
        logger.LogInformation("Upload {Id}: finishing a completion a crash interrupted after the rename.", upload.Id);
        return await MarkCompleteAsync(upload, Convert.ToHexStringLower(await HashAsync(final)));
    }

    private async Task<Upload> MarkCompleteAsync(Upload upload, string hash)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var keepUntil = now + UploadCreation.ExpirySeconds(options.Value);
        if (!await store.CompleteAsync(upload.Id, hash, now, keepUntil))
            return await store.GetAsync(upload.Id) ?? throw new InvalidOperationException($"Upload {upload.Id} vanished while it was completed.");
        return upload with { Received = upload.Length, Sha256 = hash, CompletedAt = now, ExpiresAt = keepUntil };
    }

    private static async Task<byte[]> HashAsync(string path)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        try
        {
            int read;
            while ((read = await file.ReadAsync(buffer)) > 0) hash.AppendData(buffer, 0, read);
            return hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
