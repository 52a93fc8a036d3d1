using System.Security.Cryptography;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The queue's rules that do not depend on the store: which columns a caller sees, when a worker's
/// step is a harmless repeat, how long a retry backs off, what a failure out of attempts says.
/// Both stores decide with these, so SQLite and PostgreSQL answer alike.
/// </summary>
public static class JobRules
{
    /// <summary>Every column a caller may see: not the claim token, which only the claimer learns.</summary>
    public const string Columns =
        "id, file_name, crf, preset, status, started, finished, created_at, output_name, overwrite, error, log_tail, priority, " +
        "attempts, max_attempts, lease_expires_at, cancel_requested, worker, progress, speed, eta_seconds, created_by, " +
        "input_upload AS upload_id, input_sha256, input_bytes, output_upload AS output_upload_id, output_bytes, phase, " +
        "settings, needs_encoder, profile, command_line, ssim, psnr, result";

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

    /// <summary>A job holds its output_name against others while it is live.</summary>
    public const string Live = "status IN ('pending', 'in_progress')";

    /// <summary>How long an Idempotency-Key is remembered.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    private const long MaxBackoffSeconds = 3600;

    /// <summary>
    /// ASCII letters lowered, nothing else: how both stores compare output names (SQLite's NOCASE,
    /// PostgreSQL's lower() under the "C" collation of its unique index).
    /// </summary>
    public static string AsciiLower(string name) => string.Create(name.Length, name, (span, text) =>
    {
        for (var i = 0; i < text.Length; i++) span[i] = text[i] is >= 'A' and <= 'Z' ? (char)(text[i] + 32) : text[i];
    });

    /// <summary>A claim's secret: 128 random bits, as hex.</summary>
    public static string NewClaimToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The retry delay after the <paramref name="attempts"/>-th attempt failed: doubling from the first, up to an hour.</summary>
    public static long BackoffSeconds(int firstBackoffSeconds, long attempts) =>
        Math.Min(MaxBackoffSeconds, (long)firstBackoffSeconds << (int)Math.Clamp(attempts - 1, 0, 20));

    /// <summary>The worker steps a claim records (claim_step), so that exactly a repeat of the last one is recognised.</summary>
    public static class Steps
    {
        public const string Finish = "finish";
        public const string Fail = "fail";
        public const string RetryableFail = "retryable fail";
        public const string Release = "release";
        public const string Cancel = "cancel";
    }

    /// <summary>What a failure report does to the job holding <paramref name="current"/>'s claim.</summary>
    public static FailureOutcome Judge(FailureReport report, ClaimState current, int firstBackoffSeconds)
    {
        var retry = report.Retryable && current.Attempts < current.MaxAttempts;
        var error = report.Retryable && !retry
            ? $"{report.Error} (attempt {current.Attempts} of {current.MaxAttempts}; no attempts left)"
            : report.Error;
        return new FailureOutcome(retry, retry ? JobStatus.Pending : JobStatus.Failed, error,
            BackoffSeconds(firstBackoffSeconds, current.Attempts), FailStep(report));
    }

    /// <summary>The step a failure report records: a retryable failure and a final one are different steps.</summary>
    public static string FailStep(FailureReport report) => report.Retryable ? Steps.RetryableFail : Steps.Fail;

    /// <summary>
    /// A worker's step that did not apply, judged: exactly the step this same claim took last,
    /// repeated (answer the job, change nothing); a stale claim; or a job that is not running. An
    /// unfenced finish of a finished job counts as a repeat, as the original service had it.
    /// </summary>
    public static StepOutcome JudgeRepeat(ClaimState? current, string? token, string? step)
    {
        if (current is null) return StepOutcome.NotFound;
        var repeat = token is null
            ? step == Steps.Finish && current.Status == JobStatus.Finished
            : step is not null && current.Token == token && current.Step == step && current.Status != JobStatus.InProgress;
        if (repeat) return StepOutcome.Done;
        return token is null ? StepOutcome.NotRunning : StepOutcome.StaleClaim;
    }

    /// <summary>A job that is neither pending nor running takes its output_name back when requeued, so the name must be free.</summary>
    public static bool ComesBackToLife(ClaimState current) => current.Status is not (JobStatus.Pending or JobStatus.InProgress);

    /// <summary>Is this step by a worker holding <paramref name="token"/> on the job's current claim?</summary>
    public static bool HoldsClaim(ClaimState? current, string? token) => current is { Status: JobStatus.InProgress } && current.Token == token;
}

/// <summary>What a failure does: back to pending after a backoff, or failed for good; the error kept; the step recorded.</summary>
public sealed record FailureOutcome(bool Retry, string Status, string Error, long BackoffSeconds, string Step);

/// <summary>The part of a job's row its steps are judged by (read under the row's lock where the store has row locks).</summary>
public sealed class ClaimState
{
    public string Status { get; init; } = "";
    public string? Token { get; init; }
    public string? Step { get; init; }
    public bool CancelRequested { get; init; }
    public long Attempts { get; init; }
    public long MaxAttempts { get; init; }
    public string? OutputName { get; init; }
}
