using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// Creates an upload (the tus creation extension): refuses one the disk has no room for, then writes the
/// row, then the empty <c>.part</c> file (a file never exists without its row, so the sweep can tell a
/// crash's leftovers). An upload of length 0 is complete at once.
/// </summary>
public sealed class UploadCreation(UploadStore store, MediaStore media, UploadCompletion completion, TimeProvider clock, IOptions<QueueOptions> options)
{
    /// <summary>The new upload, or why the media store cannot take it (then nothing is stored).</summary>
    public async Task<(Upload? Upload, string? NoRoom)> CreateAsync(long length, UploadMetadata metadata, string? metadataHeader, string createdBy)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        // Room for this upload and the rest of every upload still under way, above the reserve.
        var promised = await store.OutstandingBytesAsync(now);
        var free = media.FreeBytes();
        var reserve = options.Value.MediaReserveBytes;
        if (free - promised - length < reserve)
            return (null, $"Not enough space in the media store for {length} bytes: {free} bytes are free, {promised} are promised to uploads " +
                          $"under way, and {reserve} must stay free (MediaReserveBytes). Nothing was stored.");

        var upload = new Upload(MediaStore.NewId(), length, 0, metadata.FileName, metadata.ContentType, null, now,
            now + ExpirySeconds(options.Value), null, createdBy) { Metadata = string.IsNullOrWhiteSpace(metadataHeader) ? null : metadataHeader.Trim() };
        await store.CreateAsync(upload);
        File.OpenHandle(media.PartPath(upload.Id), FileMode.CreateNew, FileAccess.Write).Dispose();
        Durable.FlushFolder(media.ReceivingRoot);
        return (length == 0 ? await completion.CompleteAsync(upload, SHA256.HashData(ReadOnlySpan<byte>.Empty)) : upload, null);
    }

    /// <summary>How long an upload may go unfinished, and a finished one stay unused (UploadExpiryHours).</summary>
    public static long ExpirySeconds(QueueOptions options) => (long)Math.Ceiling(options.UploadExpiryHours * 3600);
}
