using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// POST /api/jobs/claim's optional body: who claims, how long to wait for a job (0–60 s), which jobs
/// it can run (<see cref="MediaKinds"/>; default shared-folder ones only), the largest store input it
/// has room for (its free scratch space), and the encoders it has (<see cref="EncoderCatalog"/> names,
/// or "copy" for a stream copy). A claim that lists no encoders gets only the jobs any worker can run
/// (a libx264 encode of crf and preset, <see cref="EncodeSettings.IsLegacy"/>), as the original
/// service's clients expect; one that lists them gets the jobs needing one of them, and those any
/// worker can run only when it lists libx264.
/// </summary>
public sealed record ClaimRequest(string? Worker = null, double? Wait = null, string? Media = null, long? MaxInputBytes = null,
    IReadOnlyList<string>? Encoders = null)
{
    public const double MaxWaitSeconds = 60;

    /// <summary>
    /// The version the claiming worker gave in its <see cref="Versions.WorkerHeader"/> header (not a body field): the
    /// host keeps it with the worker for the workers list.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? WorkerVersion { get; init; }

    /// <summary>
    /// Whether the claiming worker runs tasks (a job's outputs, packages, thumbnails, chunks): it speaks
    /// <see cref="Versions.TasksProtocol"/> or later and lists its encoders. Taken from the header, not a body field.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool TakesTasks { get; init; }

    /// <summary>More than every encoder there is, and few enough that a claim stays small.</summary>
    public const int MaxEncoders = 50;

    /// <summary>What a job that copies the video stream needs, besides the encoders (<see cref="VideoCodecs.Copy"/>).</summary>
    public const string CopyCapability = VideoCodecs.Copy;

    /// <summary>Whether a claim may list <paramref name="name"/> among its encoders.</summary>
    public static bool IsCapability(string name) => name == CopyCapability || EncoderCatalog.Find(name) is not null;

    /// <summary>
    /// Whether a claim for <paramref name="media"/> (null: shared-folder jobs) listing <paramref name="encoders"/> can be
    /// handed a job whose input was uploaded (<paramref name="stored"/>) and that needs <paramref name="needsEncoder"/>
    /// (<see cref="Job.NeedsEncoder"/>): the host's claim statement says the same in SQL (SharedJobSql.ClaimSearch and
    /// ClaimRunnable), besides the room a store job needs, which this leaves out.
    /// </summary>
    public static bool CanRun(string? media, IReadOnlyList<string>? encoders, bool stored, string? needsEncoder) =>
        media switch
        {
            MediaKinds.Store => stored,
            MediaKinds.Any => true,
            _ => !stored,
        }
        && (needsEncoder is null
            ? encoders is null || encoders.Contains(EncoderCatalog.Libx264)
            : encoders is not null && encoders.Contains(needsEncoder));
}

/// <summary>
/// POST /api/jobs/{id}/heartbeat: renews the claim's lease and reports progress (0–100) of the current
/// <see cref="JobPhase"/>, speed and time left.
/// </summary>
public sealed record Heartbeat(string ClaimToken, double? Progress = null, double? Speed = null, long? EtaSeconds = null, string? Phase = null)
{
    // The host refuses a heartbeat whose numbers lie outside these; the worker clamps to them.
    public const double MaxProgress = 100;
    public const double MaxSpeed = 10_000;
    public const double MaxEtaSeconds = 10_000_000;
}

/// <summary>The body of finish, release and a worker's cancel acknowledgement: the claim it holds.</summary>
public sealed record ClaimProof(string ClaimToken);

/// <summary>
/// The body of a finish: the claim it holds; for a store job the upload holding the result (complete,
/// so the host holds it durably before the job counts as finished); and the sizes, which the host
/// keeps for a shared-folder job (for a store job it knows them). Then what the quality gate
/// measured (SSIM, PSNR when the job asked), the <see cref="JobResults"/> value (kept_original names
/// no upload: there is no result file), the ffmpeg command line that ran, and the input's dynamic range
/// (<see cref="HdrKinds"/>, as its probe found it; left out when unknown, as in a failure report).
/// A task's finish may add the result's video codec and height (its job lists them with its outputs) and,
/// for a plan task, where to cut the input (<see cref="SplitPlan"/>). input_seconds is the input's duration as the
/// worker's probe found it: a key's quota of encode seconds counts it (left out when unknown).
/// </summary>
public sealed record FinishReport(string ClaimToken, string? OutputUploadId = null, long? InputBytes = null, long? OutputBytes = null,
    double? Ssim = null, double? Psnr = null, string? Result = null, string? CommandLine = null, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Hdr = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Codec = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Height = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SplitPlan? Plan = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? InputSeconds = null)
{
    /// <summary>The longest input duration a finish may report (input_seconds, which a key's quota of encode seconds counts): a year.</summary>
    public const double MaxInputSeconds = 365 * 24 * 60 * 60;

    public const int MaxCommandLineChars = 8192;

    /// <summary>
    /// The largest PSNR a finish may report, in dB. ffmpeg's PSNR of identical pictures is infinite
    /// (it prints "inf"), which JSON cannot carry: the worker reports it as this, far above any real
    /// encode's (about 50–60 dB for a transparent one).
    /// </summary>
    public const double MaxPsnr = 1000;
}
