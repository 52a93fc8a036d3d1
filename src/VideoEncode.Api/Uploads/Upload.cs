namespace VideoEncode.Api.Uploads;

/// <summary>
/// One upload in the host's media store (a row of <c>uploads</c>): a person's input or a worker's result,
/// sent with tus. <see cref="Received"/> counts only bytes stored durably. Times are unix seconds.
/// <see cref="FileName"/> is already safe: a plain file name that passes <see cref="Contracts.FileNames.Problem"/>.
/// <see cref="ExpiresAt"/>: unfinished, when it can no longer be resumed; complete, until when it is kept even if no
/// job refers to it (UploadExpiryHours after it completed, or after a job last took it up).
/// </summary>
public sealed record Upload(string Id, long Length, long Received, string FileName, string? ContentType, string? Sha256,
    long CreatedAt, long ExpiresAt, long? CompletedAt, string? CreatedBy)
{
    /// <summary>The Upload-Metadata header as the client sent it at creation, which a HEAD answers; null when it sent none.</summary>
    public string? Metadata { get; init; }

    /// <summary>Every byte is stored, flushed and in its final place (<see cref="MediaStore.CompletedPath"/>); <see cref="Sha256"/> is set.</summary>
    public bool IsComplete => CompletedAt is not null;

    /// <summary>Unfinished and past its expiry: it can no longer be resumed, and the sweep will remove it.</summary>
    public bool HasExpired(long now) => !IsComplete && ExpiresAt <= now;
}
