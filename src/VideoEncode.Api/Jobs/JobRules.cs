using System.Security.Cryptography;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The queue's facts that do not depend on the store: which columns a caller sees, what a run's report
/// is, which jobs hold their output names, how names compare and claim tokens look. Changes of state
/// are decided in <see cref="JobTransitions"/>.
/// </summary>
public static class JobRules
{
    /// <summary>Every column a caller may see: not the claim token, which only the claimer learns.</summary>
    public const string Columns =
        "id, file_name, crf, preset, status, started, finished, created_at, output_name, overwrite, error, log_tail, priority, " +
        "attempts, max_attempts, lease_expires_at, cancel_requested, worker, progress, speed, eta_seconds, created_by, " +
        "input_upload AS upload_id, input_sha256, input_bytes, output_upload AS output_upload_id, output_bytes, phase, " +
        "settings, needs_encoder, profile, command_line, ssim, psnr, result, hdr, task, task_kind, parent_id";

    /// <summary>
    /// What a worker reported about a run — its progress, and what its quality gate measured and decided —
    /// cleared whenever a run starts or ends without finishing.
    /// </summary>
    public const string ClearRunReport = "progress = NULL, speed = NULL, eta_seconds = NULL, phase = NULL, ssim = NULL, psnr = NULL, result = NULL";

    /// <summary>
    /// The encoder a job needs its worker to have (jobs.needs_encoder): none when any worker can run it,
    /// the original service's included; else its encoder, or "copy" for a stream copy.
    /// </summary>
    public static string? NeededEncoder(EncodeSettings settings) => settings.IsLegacy ? null : settings.Encoder ?? VideoCodecs.Copy;

    /// <summary>A job holds its output_name against others while it is live (<see cref="JobTransitions.IsLive"/>), in SQL.</summary>
    public const string Live = "status IN ('pending', 'in_progress')";

    /// <summary>How many times a job is tried when its request does not say (max_attempts).</summary>
    public const int DefaultMaxAttempts = 3;

    /// <summary>How long an Idempotency-Key is remembered.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// ASCII letters lowered, nothing else: how both stores compare output names (SQLite's NOCASE,
    /// PostgreSQL's lower() under the "C" collation of its unique index).
    /// </summary>
    public static string AsciiLower(string name) => string.Create(name.Length, name, (span, text) =>
    {
        for (var i = 0; i < text.Length; i++) span[i] = text[i] is >= 'A' and <= 'Z' ? (char)(text[i] + 32) : text[i];
    });

    /// <summary>
    /// Why a finish's report does not fit the quality gate the job's settings ask for (null: it fits).
    /// The worker judges the gate, the host holds it to its settings: kept_original only for a job with
    /// skip_if_larger; an encoded result of a job with min_ssim or min_psnr only with that score, measured at
    /// the minimum or above (a result that fails its check is reported with /fail). A kept original was not
    /// measured. Without a report (the original service's finish) the result is the encode, with no scores.
    /// No settings stored (null) is the original service's encode of crf and preset, which has no gate.
    /// </summary>
    public static StepRefusal? GateRefusal(EncodeSettings? settings, FinishReport? report)
    {
        if (report?.Result == JobResults.KeptOriginal)
            return settings?.SkipIfLarger == true ? null : new StepRefusal("result",
                "result kept_original is for a job with skip_if_larger, and this job has none: its result is the encode. Nothing was changed.");
        foreach (var (name, minimum, score) in new[] { ("ssim", settings?.MinSsim, report?.Ssim), ("psnr", settings?.MinPsnr, report?.Psnr) })
        {
            if (minimum is not { } least) continue;
            if (score is not { } measured)
                return new StepRefusal(name, $"This job has min_{name} {Number(least)}: its finish must report the {name} measured. Nothing was changed.");
            if (measured < least)
                return new StepRefusal(name, $"{name} {Number(measured)} is below this job's min_{name} {Number(least)}: a result that fails " +
                                             "its check is reported with /fail, not finished. Nothing was changed.");
        }
        return null;
    }

    private static string Number(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A claim's secret: 128 random bits, as hex.</summary>
    public static string NewClaimToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
