namespace VideoEncode.Contracts;

/// <summary>
/// How a job is encoded: the settings a job carries (a copy, made at enqueue, of what the request and
/// its profile said), the body of a profile (PUT /api/profiles/{name}), and what a worker builds
/// ffmpeg's arguments from. Every field has its wire name in snake_case; <see cref="EncoderCatalog"/>
/// says which values go together. The host fills in every default at enqueue, so a worker reads a
/// complete set: only <see cref="Crf"/>/<see cref="Bitrate"/>, <see cref="Preset"/>,
/// <see cref="Encoder"/>, the audio bitrate and the optional checks may be null.
/// </summary>
public sealed record EncodeSettings
{
    /// <summary><see cref="VideoCodecs"/>: h264, hevc, av1, vp9, or copy (the video stream as it is).</summary>
    public string VideoCodec { get; init; } = VideoCodecs.H264;

    /// <summary>The ffmpeg encoder (<see cref="EncoderCatalog"/>); the codec's default when not asked for; null for copy.</summary>
    public string? Encoder { get; init; } = EncoderCatalog.Libx264;

    /// <summary>Constant quality, as a canonical decimal string ("23", "23.5"); the scale is the encoder's. Null when <see cref="Bitrate"/> is used.</summary>
    public string? Crf { get; init; }

    /// <summary>Target video bitrate in ffmpeg's notation, canonical as kbit/s ("2500k"); null when <see cref="Crf"/> is used.</summary>
    public string? Bitrate { get; init; }

    /// <summary>The encoder's speed/quality preset, in the encoder's own names (x264's "medium", SVT-AV1's "8", NVENC's "p5"); null for an encoder without presets.</summary>
    public string? Preset { get; init; }

    /// <summary>8 or 10 bits per sample.</summary>
    public int BitDepth { get; init; } = 8;

    /// <summary>Scale down to at most this many lines, keeping the aspect ratio; never up. Null: the input's size.</summary>
    public int? MaxHeight { get; init; }

    /// <summary><see cref="AudioCodecs"/>: copy, aac or opus. Every audio stream of the input is kept, unless <see cref="AudioLanguages"/> says which.</summary>
    public string Audio { get; init; } = AudioCodecs.Aac;

    /// <summary>Audio bitrate per stream, canonical as kbit/s ("128k"); null: the encoder's default. Not with copy.</summary>
    public string? AudioBitrate { get; init; }

    /// <summary><see cref="Containers"/>: mp4, mkv or webm. The output name's extension follows it.</summary>
    public string Container { get; init; } = Containers.Mp4;

    /// <summary><see cref="SubtitleModes"/>: copy (kept, converted to a form the container holds) or drop.</summary>
    public string Subtitles { get; init; } = SubtitleModes.Drop;

    /// <summary>
    /// The audio tracks kept: those in these languages (ISO 639-2 codes as the input tags them, "eng") and
    /// those with no language tag, in the input's order; null: every track. When none would be left of an
    /// input that has audio, every track is kept: a job never loses all its sound to a filter.
    /// </summary>
    public IReadOnlyList<string>? AudioLanguages { get; init; }

    /// <summary>The subtitle tracks kept when <see cref="Subtitles"/> copies them, as <see cref="AudioLanguages"/> says for audio (none left is allowed).</summary>
    public IReadOnlyList<string>? SubtitleLanguages { get; init; }

    /// <summary>
    /// <see cref="ToneMaps"/>: "sdr" maps an HDR input to BT.709 SDR; null keeps HDR, and an output that
    /// cannot hold it (8-bit, H.264, VP9) fails before the encode.
    /// </summary>
    public string? Tonemap { get; init; }

    /// <summary>The result counts only if its SSIM against the input reaches this (0–1); null: not measured.</summary>
    public double? MinSsim { get; init; }

    /// <summary>The result counts only if its PSNR against the input reaches this many dB; null: not measured.</summary>
    public double? MinPsnr { get; init; }

    /// <summary>An output not smaller than its input is discarded, and the job ends finished with result "kept_original".</summary>
    public bool SkipIfLarger { get; init; }

    /// <summary>An adaptive-streaming ladder made from the input (a job made of tasks); null: none. Left out of the JSON when null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PackageSpec? Package { get; init; }

    /// <summary>A sprite sheet, storyboard and poster made beside the output; null: none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ThumbnailsSpec? Thumbnails { get; init; }

    /// <summary>Encode the input as chunks of about this many seconds, each a task any capable worker may take, then join them; null: one encode.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? SplitSeconds { get; init; }

    /// <summary>Whether a job of these settings is made of tasks, even with a single output.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NeedsTasks => Package is not null || Thumbnails is not null || SplitSeconds is not null;

    /// <summary>
    /// Today's encode, and the original service's only one: libx264 at <paramref name="crf"/> and
    /// <paramref name="preset"/>, 8-bit, AAC audio, MP4, subtitles dropped, no extra checks.
    /// </summary>
    public static EncodeSettings Legacy(string crf, string preset) => new() { Crf = crf, Preset = preset };

    /// <summary>
    /// What a job's settings start from when its request names more than crf and preset: every
    /// track of the input kept (subtitles copied), where <see cref="Legacy"/> drops subtitles.
    /// </summary>
    public static EncodeSettings Defaults => new() { Subtitles = SubtitleModes.Copy };

    /// <summary>
    /// Whether a worker that knows nothing of settings — the original service's, or ours before them,
    /// which encode libx264 from crf and preset alone — would produce exactly this. Only such jobs go
    /// to a claim that names no encoders.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsLegacy => Crf is not null && Preset is not null && this == Legacy(Crf, Preset);
}

/// <summary>The video codecs a job may ask for (<see cref="EncodeSettings.VideoCodec"/>).</summary>
public static class VideoCodecs
{
    public const string H264 = "h264";
    public const string Hevc = "hevc";
    public const string Av1 = "av1";
    public const string Vp9 = "vp9";
    public const string Copy = "copy";
    public static readonly IReadOnlyList<string> All = [H264, Hevc, Av1, Vp9, Copy];
}

/// <summary>What happens to the audio streams (<see cref="EncodeSettings.Audio"/>).</summary>
public static class AudioCodecs
{
    public const string Copy = "copy";
    public const string Aac = "aac";
    public const string Opus = "opus";
    public static readonly IReadOnlyList<string> All = [Copy, Aac, Opus];
}

/// <summary>The containers a result may be written in (<see cref="EncodeSettings.Container"/>); the extension is the name.</summary>
public static class Containers
{
    public const string Mp4 = "mp4";
    public const string Mkv = "mkv";
    public const string Webm = "webm";
    public static readonly IReadOnlyList<string> All = [Mp4, Mkv, Webm];
}

/// <summary>What happens to subtitle streams (<see cref="EncodeSettings.Subtitles"/>).</summary>
public static class SubtitleModes
{
    public const string Copy = "copy";
    public const string Drop = "drop";
    public static readonly IReadOnlyList<string> All = [Copy, Drop];
}

/// <summary>What becomes of an HDR input's dynamic range (<see cref="EncodeSettings.Tonemap"/>).</summary>
public static class ToneMaps
{
    /// <summary>Tone-mapped to BT.709 SDR (zscale + tonemap).</summary>
    public const string Sdr = "sdr";
    public static readonly IReadOnlyList<string> All = [Sdr];
}

/// <summary>The dynamic range of a job's input, as its worker's probe found it (<see cref="Job.Hdr"/>).</summary>
public static class HdrKinds
{
    public const string None = "none";

    /// <summary>PQ (smpte2084) transfer on BT.2020: HDR10, with its static metadata when the input has it.</summary>
    public const string Hdr10 = "hdr10";

    /// <summary>HLG (arib-std-b67) transfer.</summary>
    public const string Hlg = "hlg";

    /// <summary>Dolby Vision (its configuration record found); its enhancement data is not kept, the HDR10 or HLG base is.</summary>
    public const string DolbyVision = "dolby_vision";

    public static readonly IReadOnlyList<string> All = [None, Hdr10, Hlg, DolbyVision];
}

/// <summary>How a finished job ended (<see cref="Job.Result"/>).</summary>
public static class JobResults
{
    /// <summary>The encode is the result.</summary>
    public const string Encoded = "encoded";

    /// <summary><see cref="EncodeSettings.SkipIfLarger"/>: the encode was not smaller than the input and was discarded.</summary>
    public const string KeptOriginal = "kept_original";

    public static readonly IReadOnlyList<string> All = [Encoded, KeptOriginal];
}
