using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Uploads;

/// <summary>Why a creation stored nothing.</summary>
public enum CreationRefusal
{
    /// <summary>The key's unfinished uploads, with this one, would reserve more than MaxReservedUploadBytesPerKey (429).</summary>
    KeyReservationFull,
    /// <summary>The media store's disk has no room for it above MediaReserveBytes (507).</summary>
    NoRoom,
}

/// <summary>
/// Creates an upload (the tus creation extension): refuses one past its key's share of reservations or one the
/// disk has no room for, then writes the row, then the empty <c>.part</c> file (a file never exists without its
/// row, so the sweep can tell a crash's leftovers). An upload of length 0 is complete at once. A new upload
/// expires after <see cref="IdleExpiry"/> unless bytes arrive (then UploadExpiryHours after the last ones), so one
/// made and never sent to stops reserving its length within the hour.
/// </summary>
public sealed class UploadCreation(UploadStore store, MediaStore media, UploadCompletion completion, TimeProvider clock, IOptions<QueueOptions> options)
{
    /// <summary>How long a new upload waits for its first bytes (UploadExpiryHours when that is shorter).</summary>
    public static readonly TimeSpan IdleExpiry = TimeSpan.FromHours(1);

    /// <summary>The new upload, or why nothing was stored.</summary>
    public async Task<(Upload? Upload, CreationRefusal? Refused, string? Why)> CreateAsync(long length, UploadMetadata metadata, string? metadataHeader, string createdBy)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        // Room for this upload and the rest of every upload still under way, above the reserve.
        var promised = await store.OutstandingBytesAsync(now);
        var free = media.FreeBytes();
        var reserve = options.Value.MediaReserveBytes;
        if (free - promised - length < reserve)
            return (null, CreationRefusal.NoRoom, $"Not enough space in the media store for {length} bytes: {free} bytes are free, {promised} are promised to uploads " +
                                                  $"under way, and {reserve} must stay free (MediaReserveBytes). Nothing was stored.");

        var upload = new Upload(MediaStore.NewId(), length, 0, metadata.FileName, metadata.ContentType, null, now,
            now + Math.Min((long)IdleExpiry.TotalSeconds, ExpirySeconds(options.Value)), null, createdBy)
        {
            Metadata = string.IsNullOrWhiteSpace(metadataHeader) ? null : metadataHeader.Trim(),
        };
        var cap = options.Value.ReservedUploadBytesPerKey;
        if (await store.CreateAsync(upload, cap) is { } held)
            return (null, CreationRefusal.KeyReservationFull,
                $"Key '{createdBy}' already holds {held} bytes reserved by its unfinished uploads; with {length} more it would pass {cap} " +
                $"({SettingNames.MaxReservedUploadBytesPerKeyVariable}). Finish or terminate (DELETE) those uploads, or wait for them to " +
                "expire; nothing was stored.");
        File.OpenHandle(media.PartPath(upload.Id), FileMode.CreateNew, FileAccess.Write).Dispose();
        Durable.FlushFolder(media.ReceivingRoot);
        return (length == 0 ? await completion.CompleteAsync(upload, SHA256.HashData(ReadOnlySpan<byte>.Empty)) : upload, null, null);
    }

    /// <summary>How long an upload may go unfinished, and a finished one stay unused (UploadExpiryHours).</summary>
    public static long ExpirySeconds(QueueOptions options) => (long)Math.Ceiling(options.UploadExpiryHours * 3600);
}
