using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// What this process knows about the uploads it is receiving: one writer at a time per upload (a second
/// PATCH while one runs is refused, not interleaved), and the SHA-256 of the bytes received so far, so
/// the whole file's hash is ready when its last byte arrives instead of costing a second read of it.
/// The hash is only a shortcut: whenever it may not cover exactly the stored bytes (the upload was
/// begun on another host or before a restart, a PATCH was discarded), it is dropped and the completion
/// hashes the file instead. A session is forgotten when its upload completes, is terminated or swept.
/// </summary>
public sealed class UploadSessions
{
    private readonly ConcurrentDictionary<string, UploadSession> sessions = new();

    /// <summary>The upload's session, held by the caller until <see cref="End"/>; null while another request holds it.</summary>
    public UploadSession? TryBegin(string id)
    {
        var session = sessions.GetOrAdd(id, _ => new UploadSession());
        return session.TryEnter() ? session : null;
    }

    /// <summary>Lets the session go; <paramref name="forget"/> when the upload needs none any more (complete, terminated).</summary>
    public void End(string id, UploadSession session, bool forget = false)
    {
        if (forget && sessions.TryRemove(new KeyValuePair<string, UploadSession>(id, session))) session.Drop();
        session.Exit();
    }

    /// <summary>
    /// The completion of <paramref name="id"/> a PATCH holding its session has begun (<see cref="UploadSession.BeginCompleting"/>),
    /// which ends when that PATCH lets the session go; null when there is none.
    /// </summary>
    public Task? CompletionUnderWay(string id) => sessions.TryGetValue(id, out var session) ? session.Completing : null;

    /// <summary>Forgets the session of an upload that is gone (swept), unless a request holds it.</summary>
    public void ForgetIfIdle(string id)
    {
        if (TryBegin(id) is { } session) End(id, session, forget: true);
    }
}

/// <summary>One upload's writer lock and running hash (<see cref="UploadSessions"/>).</summary>
public sealed class UploadSession
{
    private int held;
    private IncrementalHash? hash;
    private long hashedUpTo;
    private TaskCompletionSource? completing;

    internal bool TryEnter() => Interlocked.CompareExchange(ref held, 1, 0) == 0;

    internal void Exit()
    {
        Volatile.Write(ref held, 0);
        Interlocked.Exchange(ref completing, null)?.TrySetResult();
    }

    /// <summary>
    /// The holder has every byte of the upload and is completing it (flush, hash, rename, mark complete): until it lets
    /// the session go, the stored offset is the old one, and HEAD waits for <see cref="Completing"/> instead of answering it.
    /// </summary>
    internal void BeginCompleting() =>
        Volatile.Write(ref completing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    internal Task? Completing => Volatile.Read(ref completing)?.Task;

    /// <summary>
    /// The running SHA-256 of bytes [0, <paramref name="offset"/>), to be fed what follows; null when this
    /// process has not seen every one of those bytes (the completion then reads the file).
    /// </summary>
    public IncrementalHash? HashFrom(long offset)
    {
        if (offset == 0)
        {
            Drop();
            hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        return hash is not null && hashedUpTo == offset ? hash : null;
    }

    /// <summary>The hash now covers bytes [0, <paramref name="offset"/>).</summary>
    public void HashedUpTo(long offset) => hashedUpTo = offset;

    /// <summary>The hash no longer matches the stored bytes.</summary>
    public void Drop()
    {
        hash?.Dispose();
        hash = null;
    }
}
