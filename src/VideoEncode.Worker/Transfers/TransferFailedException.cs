namespace VideoEncode.Worker.Transfers;

/// <summary>
/// A download or upload that cannot go on: <see cref="Retryable"/> when another attempt of the job may
/// succeed (the host's disk was full, the bytes came corrupted twice), not when it never will (the
/// input is gone from the host, the result is larger than the host accepts).
/// </summary>
public sealed class TransferFailedException(string message, bool retryable) : Exception(message)
{
    public bool Retryable { get; } = retryable;
}
