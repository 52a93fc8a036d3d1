using System.Buffers;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Uploads;

/// <summary>How a PATCH ended.</summary>
public enum PatchOutcome
{
    /// <summary>The bytes that arrived are stored (all of them, or — the client went away — those that came).</summary>
    Stored,
    NotFound,
    /// <summary>Unfinished past its expiry: it can no longer be resumed.</summary>
    Expired,
    /// <summary>Every byte is already there.</summary>
    Complete,
    /// <summary>Another request is writing this upload (on this host, or on another sharing the media folder).</summary>
    Busy,
    /// <summary>Upload-Offset is not where the upload stands (<see cref="PatchResult.Offset"/> is).</summary>
    OffsetMismatch,
    /// <summary>The body runs past Upload-Length; none of it was kept.</summary>
    TooLong,
    /// <summary>The body does not match its Upload-Checksum; none of it was kept.</summary>
    ChecksumMismatch,
    /// <summary>The stored bytes are missing from the disk (the file was removed behind the host's back).</summary>
    FileLost,
    /// <summary>The disk refused a write: what was flushed before is kept.</summary>
    WriteFailed,
}

/// <summary>A PATCH's outcome, the upload as it now stands, and the offset to answer.</summary>
public sealed record PatchResult(PatchOutcome Outcome, Upload? Upload = null, string? Detail = null)
{
    public long Offset => Upload?.Received ?? 0;
}

/// <summary>
/// The tus core's PATCH: appends a request's body to an upload at its offset. The body is streamed
/// through one fixed buffer to the file, never held whole. Durability comes first: at the end of every
/// PATCH — finished, cut off mid-way, or failed — the file is flushed to disk and only then is the new
/// offset stored, so a HEAD never reports a byte a crash could lose; the file is cut back to the stored
/// offset before each PATCH appends, dropping bytes written but never acknowledged. A body with an
/// Upload-Checksum is all or nothing: on a mismatch (or if it is cut off, as it then cannot be checked)
/// its bytes are discarded and the offset stays. The last byte completes the upload (<see cref="UploadCompletion"/>).
/// While a PATCH writes, its upload's expiry is kept at least <see cref="KeptAheadWhileWriting"/> ahead, so the sweep
/// never takes an upload from under a PATCH still under way (the expiry is otherwise only looked at as a PATCH starts).
/// </summary>
public sealed class UploadReceiver(UploadStore store, MediaStore media, UploadSessions sessions, UploadCompletion completion,
    TimeProvider clock, IOptions<QueueOptions> options)
{
    /// <summary>Bytes read from the request before each write to the file.</summary>
    public const int BufferBytes = 1024 * 1024;

    /// <summary>
    /// How far ahead a PATCH keeps its upload's expiry: moved on as bytes arrive whenever less than half of this is
    /// left (a write every few minutes per PATCH). A body that stalls longer than that is cut off by Kestrel's
    /// minimum data rate long before.
    /// </summary>
    public static readonly TimeSpan KeptAheadWhileWriting = TimeSpan.FromMinutes(10);

    public async Task<PatchResult> ReceiveAsync(string id, long offset, UploadChecksum? checksum, long? contentLength, Stream body)
    {
        var session = sessions.TryBegin(id);
        if (session is null) return new PatchResult(PatchOutcome.Busy);
        // An upload that is gone, expired or complete needs no session: forgotten, so unknown ids leave nothing behind.
        var forget = true;
        try
        {
            var upload = await store.GetAsync(id);
            if (upload is null) return new PatchResult(PatchOutcome.NotFound);
            upload = await completion.TryRecoverAsync(upload) ?? upload;
            if (upload.IsComplete) return new PatchResult(PatchOutcome.Complete, upload);
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            if (upload.HasExpired(now)) return new PatchResult(PatchOutcome.Expired, upload);
            forget = false;
            if (offset != upload.Received) return new PatchResult(PatchOutcome.OffsetMismatch, upload);
            var room = upload.Length - upload.Received;
            if (contentLength > room) return new PatchResult(PatchOutcome.TooLong, upload, $"{room} bytes remain");

            Microsoft.Win32.SafeHandles.SafeFileHandle file;
            try
            {
                // FileShare.None is an exclusive lock on Linux (flock), which keeps out a host sharing the media folder.
                // Only an upload with no bytes yet may create its file: a missing one is lost, not to be started over.
                file = File.OpenHandle(media.PartPath(id), upload.Received == 0 ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (FileNotFoundException)
            {
                return new PatchResult(PatchOutcome.FileLost, upload, $"none of the {upload.Received} bytes received are on disk");
            }
            catch (IOException)
            {
                return new PatchResult(PatchOutcome.Busy, upload);
            }
            long received;
            byte[]? sha256 = null;
            using (file)
            {
                // Read again under the lock: a host sharing the media folder may have moved the upload on (or
                // completed it) between the first read and the lock, and its bytes must not be cut back.
                var locked = await store.GetAsync(id);
                if (locked is null || locked.IsComplete || locked.Received != upload.Received)
                {
                    session.Drop();
                    return locked is null ? new PatchResult(PatchOutcome.NotFound)
                        : new PatchResult(locked.IsComplete ? PatchOutcome.Complete : PatchOutcome.OffsetMismatch, locked);
                }
                var length = RandomAccess.GetLength(file);
                if (length < upload.Received)
                    return new PatchResult(PatchOutcome.FileLost, upload, $"{length} of the {upload.Received} bytes received are on disk");
                var keeper = new ExpiryKeeper(store, clock, id, locked.ExpiresAt);
                if (!await keeper.KeepAsync())
                    return await store.GetAsync(id) is { } expired ? new PatchResult(PatchOutcome.Expired, expired) : new PatchResult(PatchOutcome.NotFound);
                if (length > upload.Received) RandomAccess.SetLength(file, upload.Received);

                var append = await AppendAsync(file, upload.Received, room, body, session.HashFrom(upload.Received), checksum, keeper.KeepAsync);
                if (upload.Received + append.Written == upload.Length && append.Written > 0) session.BeginCompleting();
                if (append.Written == 0)
                {
                    if (append.Outcome != PatchOutcome.Stored) session.Drop(); // it was fed bytes that were discarded
                    return new PatchResult(append.Outcome, upload, append.Detail);
                }
                try
                {
                    RandomAccess.FlushToDisk(file);
                }
                catch (IOException e)
                {
                    session.Drop();
                    return new PatchResult(PatchOutcome.WriteFailed, upload, e.Message);
                }
                received = upload.Received + append.Written;
                var expiresAt = clock.GetUtcNow().ToUnixTimeSeconds() + UploadCreation.ExpirySeconds(options.Value);
                // The last byte does not move the offset by itself: the completion does, in the same write that
                // marks the upload complete, so nobody ever reads "every byte received" of an upload not yet usable.
                if (received < upload.Length && !await store.AdvanceAsync(id, upload.Received, received, expiresAt))
                {
                    // Another host moved it meanwhile; our bytes are cut off by whoever appends next.
                    session.Drop();
                    return new PatchResult(PatchOutcome.OffsetMismatch, await store.GetAsync(id) ?? upload);
                }
                if (append.Hashed is { } hash)
                {
                    session.HashedUpTo(received);
                    if (received == upload.Length) sha256 = hash.GetHashAndReset();
                }
                else
                {
                    session.Drop();
                }
                upload = upload with { Received = received, ExpiresAt = expiresAt };
                if (received < upload.Length) return new PatchResult(append.Outcome, upload, append.Detail);
            }
            forget = true;
            return new PatchResult(PatchOutcome.Stored, await completion.CompleteAsync(upload, sha256));
        }
        finally
        {
            sessions.End(id, session, forget);
        }
    }

    private sealed record Appended(PatchOutcome Outcome, long Written, System.Security.Cryptography.IncrementalHash? Hashed, string? Detail = null);

    /// <summary>Moves an upload's expiry on while a PATCH writes it, when less than half of <see cref="KeptAheadWhileWriting"/> is left.</summary>
    private sealed class ExpiryKeeper(UploadStore store, TimeProvider clock, string id, long expiresAt)
    {
        /// <summary>False when the upload expired (or went) meanwhile: the PATCH must stop.</summary>
        public async Task<bool> KeepAsync()
        {
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            var ahead = (long)KeptAheadWhileWriting.TotalSeconds;
            if (expiresAt - now >= ahead / 2) return true;
            if (!await store.KeepAsync(id, now, now + ahead)) return false;
            expiresAt = Math.Max(expiresAt, now + ahead);
            return true;
        }
    }

    /// <summary>
    /// Copies <paramref name="body"/> to <paramref name="file"/> from <paramref name="at"/>, at most <paramref name="room"/> bytes,
    /// feeding <paramref name="whole"/> (the running hash, when there is one) and asking <paramref name="keep"/> after each read
    /// (false: the upload expired meanwhile, and the body is discarded). Answers how many bytes stay written; a body
    /// that is discarded (too long, a checksum that fails or cannot be checked, expired) is cut off the file again.
    /// </summary>
    private static async Task<Appended> AppendAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long at, long room, Stream body,
        System.Security.Cryptography.IncrementalHash? whole, UploadChecksum? checksum, Func<Task<bool>> keep)
    {
        using var chunkHash = checksum?.NewHash();
        // Two buffers: one is read into from the request while the other is written to the file (and hashed) — the disk
        // and the network each at their own pace. One write at a time, in order; `written` counts what has landed.
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(BufferBytes), ArrayPool<byte>.Shared.Rent(BufferBytes)];
        var current = 0;
        long written = 0, handedOver = 0;
        var (ended, cut, tooLong, expired) = (false, false, false, false);
        string? failure = null;
        Task? writing = null;
        try
        {
            while (!ended && !cut)
            {
                var buffer = buffers[current];
                // Fill the buffer (a socket hands over a few KB at a time) so the disk gets large writes.
                var filled = 0;
                while (filled < BufferBytes)
                {
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer.AsMemory(filled, BufferBytes - filled));
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                        cut = true; // the client went away (or its connection broke): keep what arrived
                        break;
                    }
                    if (read == 0)
                    {
                        ended = true;
                        break;
                    }
                    filled += read;
                    if (!await keep())
                    {
                        expired = true;
                        break;
                    }
                }
                if (expired) break;
                if (filled == 0) break;
                if (handedOver + filled > room)
                {
                    tooLong = true;
                    break;
                }
                if (writing is not null && (failure = await SettleAsync(writing)) is not null) break;
                writing = WriteAsync(buffer, filled, at + handedOver);
                handedOver += filled;
                current = 1 - current;
            }
            if (writing is not null) failure ??= await SettleAsync(writing);
        }
        finally
        {
            if (writing is not null) await SettleAsync(writing); // never hand a buffer back while a write still reads it
            foreach (var buffer in buffers) ArrayPool<byte>.Shared.Return(buffer);
        }

        async Task WriteAsync(byte[] buffer, int count, long offset)
        {
            await RandomAccess.WriteAsync(file, buffer.AsMemory(0, count), offset);
            whole?.AppendData(buffer, 0, count);
            chunkHash?.AppendData(buffer, 0, count);
            written += count;
        }

        var outcome = expired ? PatchOutcome.Expired
            : tooLong ? PatchOutcome.TooLong
            : checksum is not null && (cut || failure is not null || !checksum.Matches(chunkHash!)) ? PatchOutcome.ChecksumMismatch
            : failure is not null ? PatchOutcome.WriteFailed
            : PatchOutcome.Stored;
        if (outcome is PatchOutcome.Expired or PatchOutcome.TooLong or PatchOutcome.ChecksumMismatch)
        {
            RandomAccess.SetLength(file, at);
            return new Appended(outcome, 0, null, tooLong ? $"{room} bytes remain" : null);
        }
        // The running hash was fed only what was written, so it still matches the stored bytes.
        return new Appended(outcome, written, whole, failure);
    }

    /// <summary>Waits for a write; answers why it failed, or null.</summary>
    private static async Task<string?> SettleAsync(Task write)
    {
        try
        {
            await write;
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }
}
