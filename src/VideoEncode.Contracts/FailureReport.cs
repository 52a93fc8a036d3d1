using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// The body of POST /api/jobs/{id}/fail: what went wrong, in a sentence, and the tail of ffmpeg's
/// stderr when ffmpeg ran. The host keeps at most <see cref="MaxLogTailChars"/> of the tail.
/// The ffmpeg command line, when one ran, is kept on the job like a finish's, and so is the input's
/// dynamic range (<see cref="HdrKinds"/>) when the worker probed it: an HDR input refused says so (left out
/// when unknown, so the body is byte for byte what it was before the field).
/// A retryable failure goes back to the queue (after a backoff) while attempts remain.
/// </summary>
public sealed record FailureReport(string Error, string? LogTail = null, string? ClaimToken = null, bool Retryable = false, string? CommandLine = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Hdr = null)
{
    public const int MaxErrorChars = 2000;
    public const int MaxLogTailChars = 4096;
}
