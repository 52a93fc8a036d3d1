using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// A job to enqueue, as the request carries it. Swagger shows this shape; the body itself is read
/// by <see cref="JobInput"/> so that every bad field gets a precise message.
/// </summary>
/// <param name="FileName">Path relative to the worker's media root, e.g. "shows/ep1.mkv".</param>
/// <param name="Crf">x264 constant rate factor, 0–51; a string ("23") or a number (23).</param>
/// <param name="Preset">x264 preset: ultrafast … placebo.</param>
/// <param name="Priority">Optional; higher is claimed first (default 0).</param>
/// <param name="MaxAttempts">Optional; claims allowed before the job fails for good (default 3).</param>
/// <param name="OutputName">
/// Optional; where the result goes, relative to the worker's output root, ending in .mp4. Without
/// it: the input's name with .mp4, numbered "a (2).mp4" … when a live job has that name already.
/// A name a live job holds answers 409.
/// </param>
/// <param name="Overwrite">Optional; replace a file already at the output name (default false: the job fails with "output exists").</param>
/// <param name="UploadId">
/// Instead of file_name: an upload to the host's media store (POST /api/uploads, tus), which must be
/// complete. The job's file_name is then the uploaded file's name, and workers fetch the input from the host.
/// </param>
public sealed record NewJob(string FileName, string Crf, string Preset, int Priority = 0, int MaxAttempts = JobInput.DefaultMaxAttempts,
    string? OutputName = null, bool Overwrite = false, string? UploadId = null)
{
    /// <summary>The job's own copy of its encode settings, complete; <see cref="Crf"/> and <see cref="Preset"/> repeat theirs ("" when not used).</summary>
    public EncodeSettings Settings { get; init; } = EncodeSettings.Legacy(Crf, Preset);

    /// <summary>The profile the request named, which <see cref="Settings"/> started from.</summary>
    public string? Profile { get; init; }

    /// <summary>
    /// Optional: the file a watched folder found ({"path", "size", "mtime"}), enqueued once (<see cref="WatchedFiles"/>);
    /// a second enqueue of it answers 409 with the job it became.
    /// </summary>
    public WatchedFile? Source { get; init; }
}
