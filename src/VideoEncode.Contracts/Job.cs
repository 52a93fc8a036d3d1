using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// A job as it travels over the wire. The names and types of the original service's fields
/// (id, file_name, crf, preset, started, finished, created_at) are part of the contract:
/// times are unix seconds and null until set, and crf is a string. The rest are ours.
/// </summary>
public sealed record Job
{
    public long Id { get; init; }
    public string FileName { get; init; } = "";
    public string Crf { get; init; } = "";
    public string Preset { get; init; } = "";
    public string Status { get; init; } = JobStatus.Pending;

    /// <summary><see cref="Status"/> as a <see cref="JobState"/>, for code to decide with; not on the wire, which has the string.</summary>
    [JsonIgnore]
    public JobState State => JobStatus.Parse(Status) ?? throw new FormatException($"Unknown job status '{Status}'.");
    public long? Started { get; init; }
    public long? Finished { get; init; }
    public long CreatedAt { get; init; }

    /// <summary>
    /// Where the result goes, relative to the worker's output root. Set by the host at enqueue (the
    /// request's own, or the input's name with .mp4 made distinct from every other live job's).
    /// Null only from a host older than this field; the worker then uses the input's name with .mp4.
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>May the worker replace a file already at <see cref="OutputName"/>? Otherwise the job fails with "output exists".</summary>
    public bool Overwrite { get; init; }

    /// <summary>Why a failed job failed, as its worker (or the lease keeper) reported it; null otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>The last few KB of ffmpeg's stderr from a failed encode, when ffmpeg ran.</summary>
    public string? LogTail { get; init; }

    /// <summary>Higher is claimed first; equal priorities go oldest first.</summary>
    public int Priority { get; init; }

    /// <summary>How many times the job has been claimed.</summary>
    public int Attempts { get; init; }

    /// <summary>Claims allowed before an expired lease or a retryable failure fails the job for good.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>The current claim's secret, shown only in the claim answer; finish, fail and heartbeat quote it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClaimToken { get; init; }

    /// <summary>When the current claim lapses unless renewed by a heartbeat (unix seconds).</summary>
    public long? LeaseExpiresAt { get; init; }

    /// <summary>Someone asked to cancel this running job; its worker stops and acknowledges.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The name the claiming worker gave.</summary>
    public string? Worker { get; init; }

    /// <summary>Percent done, from the worker's heartbeats.</summary>
    public double? Progress { get; init; }

    /// <summary>Encode speed as a multiple of real time (ffmpeg's "speed"), from heartbeats.</summary>
    public double? Speed { get; init; }

    /// <summary>Seconds of encoding left, as the worker estimates it.</summary>
    public long? EtaSeconds { get; init; }

    /// <summary>The name of the key that enqueued the job; null for jobs from before keys had names.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>
    /// The upload (POST /api/uploads, tus) this job encodes, when its input is in the host's media store;
    /// null for a file under the workers' shared --input folder. A worker fetches it from GET /api/jobs/{id}/input.
    /// </summary>
    public string? UploadId { get; init; }

    /// <summary>Lower-case hex SHA-256 of a store job's input, so a worker can check what it downloaded.</summary>
    public string? InputSha256 { get; init; }

    /// <summary>The input's size in bytes: known at enqueue for a store job, reported by the worker for a shared-folder one.</summary>
    public long? InputBytes { get; init; }

    /// <summary>The upload holding a finished store job's result (GET /api/jobs/{id}/output serves it).</summary>
    public string? OutputUploadId { get; init; }

    /// <summary>The result's size in bytes, once finished.</summary>
    public long? OutputBytes { get; init; }

    /// <summary>What the worker is doing: <see cref="JobPhase"/> downloading, encoding or uploading; null when not running.</summary>
    public string? Phase { get; init; }

    /// <summary>
    /// How the job is encoded: every setting, defaults filled in, copied at enqueue from the request and
    /// the profile it named (editing the profile later changes nothing here). A job that asked for
    /// nothing but crf and preset — and every job from before settings — stores none, and reads as
    /// <see cref="EncodeSettings.Legacy"/> of its <see cref="Crf"/> and <see cref="Preset"/>.
    /// </summary>
    public EncodeSettings Settings
    {
        get => settings ?? EncodeSettings.Legacy(Crf, Preset);
        init => settings = value;
    }

    private readonly EncodeSettings? settings;

    /// <summary>
    /// The encoder a worker must list in its claim to get this job ("copy" for a stream copy); null when any
    /// worker may run it, the original service's too: a libx264 encode of crf and preset and nothing else.
    /// </summary>
    public string? NeedsEncoder { get; init; }

    /// <summary>The profile the job named at enqueue, if any (its settings were copied into <see cref="Settings"/>).</summary>
    public string? Profile { get; init; }

    /// <summary>The ffmpeg command line the last run used, as its worker reported it (arguments quoted for reading, not for a shell).</summary>
    public string? CommandLine { get; init; }

    /// <summary>SSIM of the result against the input (0–1), when the job asked for it (<see cref="EncodeSettings.MinSsim"/>).</summary>
    public double? Ssim { get; init; }

    /// <summary>PSNR of the result against the input in dB, when the job asked for it (<see cref="EncodeSettings.MinPsnr"/>).</summary>
    public double? Psnr { get; init; }

    /// <summary>
    /// <see cref="HdrKinds"/>: the input's dynamic range (none, hdr10, hlg, dolby_vision), as the worker's probe found it
    /// and reported with the run's finish or failure; null until a worker has looked.
    /// </summary>
    public string? Hdr { get; init; }

    /// <summary><see cref="JobResults"/> of a finished job: encoded, or kept_original (skip_if_larger discarded the encode).</summary>
    public string? Result { get; init; }

    /// <summary>On a task (a row of a job made of tasks, <see cref="TaskKinds"/>): what it is. Null on a job.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JobTask? Task { get; init; }

    /// <summary>Whether the job is made of tasks (GET /api/jobs/{id}/tasks lists them); left out when false.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool HasTasks { get; init; }

    /// <summary>As the host stores it: <see cref="MadeOfTasks"/> for a job made of tasks, a task's kind, null for a plain job. Not on the wire.</summary>
    [JsonIgnore]
    public string? TaskKind
    {
        get => taskKind;
        init
        {
            taskKind = value;
            HasTasks = value == MadeOfTasks;
        }
    }

    private readonly string? taskKind;

    /// <summary>The <see cref="TaskKind"/> of a job made of tasks (never claimed itself: its tasks are).</summary>
    public const string MadeOfTasks = "job";

    /// <summary>On a job made of tasks, in GET /api/jobs/{id}: its results, one per output, package or thumbnails. Null otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<JobOutput>? Outputs { get; init; }

    /// <summary>
    /// Only in a heartbeat's answer, and only when true: the worker holding this job is being drained —
    /// it finishes the jobs it runs, claims no more, and exits.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Drain { get; init; }
}
