using System.Text.Json.Serialization;

namespace VideoEncode.Contracts;

/// <summary>
/// What a task does (<see cref="JobTask.Kind"/>). A job that asks for several outputs, a package, thumbnails or
/// splitting is made of tasks, and workers claim tasks: each is leased, fenced, retried and given back like a
/// plain job (a task is a row of its own with the job as its parent). A plain job has no tasks.
/// </summary>
public static class TaskKinds
{
    /// <summary>One output of the job's input: today's encode, with the output's own settings and name.</summary>
    public const string Encode = "encode";
    /// <summary>Looks at the input of a split job and reports where to cut it (<see cref="SplitPlan"/>); the host then adds the chunks, the audio and the join.</summary>
    public const string Plan = "plan";
    /// <summary>Encodes the video of one stretch of the input (<see cref="JobTask.StartSeconds"/>, <see cref="JobTask.Frames"/> frames), nothing else.</summary>
    public const string Chunk = "chunk";
    /// <summary>Encodes everything of a split job's input but its video, once: audio, subtitles, chapters, tags, attachments.</summary>
    public const string Audio = "audio";
    /// <summary>Joins a split job's chunks and audio without encoding again, and runs the quality gate on the whole.</summary>
    public const string Join = "join";
    /// <summary>An adaptive-streaming ladder (<see cref="PackageSpec"/>) into a folder, in one ffmpeg run: one decode, audio encoded once.</summary>
    public const string Package = "package";
    /// <summary>A sprite sheet, a WebVTT storyboard pointing into it, and a poster (<see cref="ThumbnailsSpec"/>).</summary>
    public const string Thumbnails = "thumbnails";

    public static readonly IReadOnlyList<string> All = [Encode, Plan, Chunk, Audio, Join, Package, Thumbnails];
}

/// <summary>Adaptive-streaming formats a package may be.</summary>
public static class PackageFormats
{
    public const string Hls = "hls";
    public const string Dash = "dash";
    public static readonly IReadOnlyList<string> All = [Hls, Dash];

    /// <summary>The playlist a package's folder is opened by.</summary>
    public static string Manifest(string format) => format == Dash ? "manifest.mpd" : "master.m3u8";
}

/// <summary>
/// An adaptive-streaming ladder: one rendition per height of <see cref="Ladder"/> that is not above the input's
/// (at least the lowest is kept), CMAF/fMP4 segments of about <see cref="SegmentSeconds"/>, audio encoded once.
/// </summary>
public sealed record PackageSpec(string Format, IReadOnlyList<int> Ladder, int SegmentSeconds)
{
    public static readonly IReadOnlyList<int> DefaultLadder = [1080, 720, 480, 360];
    public const int DefaultSegmentSeconds = 4;

    /// <summary>Two ladders are the same when their rungs are (a record compares lists by reference otherwise).</summary>
    public bool Equals(PackageSpec? other) =>
        other is not null && Format == other.Format && SegmentSeconds == other.SegmentSeconds && Ladder.SequenceEqual(other.Ladder);

    public override int GetHashCode() => HashCode.Combine(Format, SegmentSeconds, Ladder.Count > 0 ? Ladder[0] : 0);

    /// <summary>The rungs to encode for an input <paramref name="inputHeight"/> lines high: those not above it, highest first; the lowest rung when all are.</summary>
    public IReadOnlyList<int> HeightsFor(int inputHeight)
    {
        var kept = Ladder.Where(height => height <= inputHeight).Distinct().OrderDescending().ToList();
        return kept.Count > 0 ? kept : [Ladder.Min()];
    }
}

/// <summary>A sprite sheet of one picture every <see cref="EverySeconds"/>, each <see cref="Width"/> pixels wide, its WebVTT storyboard, and a poster.</summary>
public sealed record ThumbnailsSpec(int EverySeconds, int Width)
{
    public const string Sprite = "sprite.jpg";
    public const string Storyboard = "storyboard.vtt";
    public const string Poster = "poster.jpg";

    /// <summary>The three files, as named inside a package's folder; beside a single output they are prefixed by its name without extension ("a.sprite.jpg").</summary>
    public static readonly IReadOnlyList<string> Files = [Sprite, Storyboard, Poster];
}

/// <summary>
/// What a task is (<see cref="Job.Task"/> on a task's row): its job, place and kind, and what its kind needs.
/// A worker reads it from its claim; the host keeps it with the task.
/// </summary>
public sealed record JobTask
{
    /// <summary>The job the task belongs to.</summary>
    public long JobId { get; init; }
    /// <summary>Its place in the job, from 0: outputs in the order asked, then a package, thumbnails; a split job's plan, then its chunks in time order, the audio and the join.</summary>
    public int Index { get; init; }
    /// <summary><see cref="TaskKinds"/>.</summary>
    public string Kind { get; init; } = TaskKinds.Encode;

    /// <summary>A chunk's stretch of the input, in seconds from its start, and how many video frames it has.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? StartSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? EndSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Frames { get; init; }

    /// <summary>A plan task's chunk length (the job's split_seconds).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? SplitSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PackageSpec? Package { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ThumbnailsSpec? Thumbnails { get; init; }

    /// <summary>A join's parts, in order: the chunks by time, then the audio (its <see cref="TaskPart.Kind"/> says which); filled in when the join is claimed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TaskPart>? Parts { get; init; }
}

/// <summary>One line of GET /api/jobs/{id}/tasks: a task's place, kind and progress (a chunk's stretch too).</summary>
public sealed record TaskLine
{
    /// <summary>The task's own id: its claim, heartbeat and finish use it as a job's id.</summary>
    public long Id { get; init; }
    public int Index { get; init; }
    public string Kind { get; init; } = "";
    public string Status { get; init; } = "";
    public string? Worker { get; init; }
    public int Attempts { get; init; }
    public double? Progress { get; init; }
    public string? Error { get; init; }
    public string? OutputName { get; init; }
    public long? OutputBytes { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? StartSeconds { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? EndSeconds { get; init; }
}

/// <summary>
/// One finished part a join reads: a chunk or the audio. A shared-folder job's part is a file at
/// <see cref="OutputName"/> under the output root; a store job's is the upload <see cref="OutputUploadId"/>
/// (GET /api/jobs/{<see cref="TaskId"/>}/output serves it).
/// </summary>
public sealed record TaskPart(long TaskId, string Kind, string OutputName, string? OutputUploadId, long? Frames)
{
    /// <summary>The hidden folder under the output root where a shared-folder split job's parts lie ("job-N/chunk-0001"), until its join removes them.</summary>
    public const string Folder = ".videoencode-parts";
}

/// <summary>Where a split job's input is cut, as its plan task reports it with the finish: chunks in time order that together hold every video frame once.</summary>
public sealed record SplitPlan(IReadOnlyList<ChunkCut> Chunks)
{
    /// <summary>The most chunks one job may be cut into.</summary>
    public const int MaxChunks = 1000;
}

/// <summary>One chunk: from <see cref="StartSeconds"/> (a keyframe of the input, from its start) to <see cref="EndSeconds"/>, <see cref="Frames"/> video frames.</summary>
public sealed record ChunkCut(double StartSeconds, double EndSeconds, long Frames);

/// <summary>
/// One result of a job in GET /api/jobs/{id} (<see cref="Job.Outputs"/>): a file or, for a package, a folder,
/// with what its worker measured. <see cref="TaskId"/> names the task whose GET /api/jobs/{task}/output serves a
/// store job's result.
/// </summary>
public sealed record JobOutput(long TaskId, string Kind, string Name, string Status, long? Bytes, string? Codec, int? Height, double? Ssim, double? Psnr);
