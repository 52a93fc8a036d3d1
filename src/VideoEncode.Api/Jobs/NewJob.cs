namespace VideoEncode.Api.Jobs;

/// <summary>
/// A job to enqueue, as the request carries it. Only used to document the request in Swagger;
/// the body is read by <see cref="JobInput"/> so that every bad field gets a precise message.
/// </summary>
/// <param name="FileName">Path relative to the worker's media root, e.g. "shows/ep1.mkv".</param>
/// <param name="Crf">x264 constant rate factor, 0–51; a string ("23") or a number (23).</param>
/// <param name="Preset">x264 preset: ultrafast … placebo.</param>
public sealed record NewJob(string FileName, string Crf, string Preset);
