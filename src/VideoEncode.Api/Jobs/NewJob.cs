using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// A job to enqueue, as the request carries it. Swagger shows this shape; the body itself is read
/// by <see cref="Http.JobInput"/> so that every bad field gets a precise message. Beside these, any field of
/// the encode settings (GET /api/encode-options; the EncodeSettings schema) may be given flat:
/// video_codec, encoder, crf or bitrate, preset, bit_depth, max_height, audio, audio_bitrate, container,
/// subtitles, min_ssim, min_psnr, skip_if_larger, package, thumbnails, split_seconds. Without a profile, video_codec or encoder: crf and
/// preset, as the original service had them.
/// </summary>
/// <param name="FileName">Path relative to the worker's media root, e.g. "shows/ep1.mkv".</param>
/// <param name="Crf">Constant quality on the encoder's scale (x264: 0–51); a string ("23") or a number (23). "" in a job encoded by bitrate or copied.</param>
/// <param name="Preset">The encoder's preset (x264: ultrafast … placebo).</param>
/// <param name="Priority">Optional; higher is claimed first (default 0).</param>
/// <param name="MaxAttempts">Optional; claims allowed before the job fails for good (default 3).</param>
/// <param name="OutputName">
/// Optional; where the result goes, relative to the worker's output root, ending in the container's
/// extension (.mp4, .mkv, .webm). Without it: the input's name with that extension, numbered "a (2).mp4" …
/// when a live job has that name already.
/// A name a live job holds answers 409.
/// </param>
/// <param name="Overwrite">Optional; replace a file already at the output name (default false: the job fails with "output exists").</param>
/// <param name="UploadId">
/// Instead of file_name: an upload to the host's media store (POST /api/uploads, tus), which must be
/// complete. The job's file_name is then the uploaded file's name, and workers fetch the input from the host.
/// </param>
public sealed record NewJob(string FileName, string Crf, string Preset, int Priority = 0, int MaxAttempts = JobRules.DefaultMaxAttempts,
    string? OutputName = null, bool Overwrite = false, string? UploadId = null)
{
    /// <summary>The job's own copy of its encode settings, complete; <see cref="Crf"/> and <see cref="Preset"/> repeat theirs ("" when not used).
    /// Not a field of the request: its fields come flat (see the summary above).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public EncodeSettings Settings { get; init; } = EncodeSettings.Legacy(Crf, Preset);

    /// <summary>Optional: a profile (GET /api/profiles) whose settings the job starts from; fields given beside it override them.</summary>
    public string? Profile { get; init; }

    /// <summary>
    /// Optional: the file a watched folder found ({"path", "size", "mtime"}), enqueued once (<see cref="WatchedFiles"/>);
    /// a second enqueue of it answers 409 with the job it became.
    /// </summary>
    public WatchedFile? Source { get; init; }

    /// <summary>
    /// Optional: 1 to <see cref="Http.JobInput.MaxOutputs"/> outputs of the one input, each with its own settings (the job's
    /// fields with the output's own over them, or a profile) and output_name; the job is then made of tasks, one per output.
    /// </summary>
    public IReadOnlyList<NewOutput>? Outputs { get; init; }

    /// <summary>Whether the job is made of tasks (<see cref="JobShape"/>): several outputs, a package, thumbnails or a split encode.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasTasks => Outputs is not null || Settings.NeedsTasks;
}

/// <summary>One output of a job made of tasks, as the request's "outputs" gives it.</summary>
public sealed record NewOutput(EncodeSettings Settings, string? OutputName, bool Overwrite, string? Profile);
