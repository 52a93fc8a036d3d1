namespace VideoEncode.Contracts;

/// <summary>
/// One ffmpeg video encoder a job may name: the codec it makes, the hardware it needs (null: software,
/// runs anywhere ffmpeg has it), its presets in its own names (empty: it has none), the top of its
/// quality scale (its crf, cq, global_quality or qp, all from 0 up), and the bit depths it writes.
/// </summary>
public sealed record EncoderInfo(string Name, string Codec, string? Hardware, IReadOnlyList<string> Presets, string? DefaultPreset,
    decimal MaxCrf, IReadOnlyList<int> BitDepths);

/// <summary>
/// What goes with what, defined once for the host's validation, the worker's argument building and
/// capability detection, and the pages (GET /api/encode-options): the encoders per codec with the
/// default first, and what each container holds.
/// </summary>
public static class EncoderCatalog
{
    public const string Libx264 = "libx264";

    /// <summary>Hardware families: a worker lists such an encoder only after a test encode with it succeeded.</summary>
    public const string Nvenc = "nvenc";
    public const string Qsv = "qsv";
    public const string Vaapi = "vaapi";

    public static readonly IReadOnlyList<string> X264Presets =
        ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];

    private static readonly IReadOnlyList<string> NvencPresets = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    private static readonly IReadOnlyList<string> QsvPresets = ["veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];
    private static readonly IReadOnlyList<string> SvtAv1Presets = Numbers(0, 13);
    private static readonly IReadOnlyList<string> CpuUsedPresets = Numbers(0, 8);
    private static readonly IReadOnlyList<string> VpxPresets = Numbers(0, 8);

    /// <summary>Every encoder, each codec's default first among its own.</summary>
    public static readonly IReadOnlyList<EncoderInfo> Encoders =
    [
        new(Libx264, VideoCodecs.H264, null, X264Presets, "medium", 51, [8, 10]),
        new("h264_nvenc", VideoCodecs.H264, Nvenc, NvencPresets, "p4", 51, [8]),
        new("h264_qsv", VideoCodecs.H264, Qsv, QsvPresets, "medium", 51, [8]),
        new("h264_vaapi", VideoCodecs.H264, Vaapi, [], null, 51, [8]),
        new("libx265", VideoCodecs.Hevc, null, X264Presets, "medium", 51, [8, 10]),
        new("hevc_nvenc", VideoCodecs.Hevc, Nvenc, NvencPresets, "p4", 51, [8, 10]),
        new("hevc_qsv", VideoCodecs.Hevc, Qsv, QsvPresets, "medium", 51, [8, 10]),
        new("hevc_vaapi", VideoCodecs.Hevc, Vaapi, [], null, 51, [8, 10]),
        new("libsvtav1", VideoCodecs.Av1, null, SvtAv1Presets, "8", 63, [8, 10]),
        new("libaom-av1", VideoCodecs.Av1, null, CpuUsedPresets, "6", 63, [8, 10]),
        new("libvpx-vp9", VideoCodecs.Vp9, null, VpxPresets, "4", 63, [8, 10]),
        new("vp9_qsv", VideoCodecs.Vp9, Qsv, QsvPresets, "medium", 51, [8, 10]),
        new("vp9_vaapi", VideoCodecs.Vp9, Vaapi, [], null, 51, [8]),
    ];

    /// <summary>The video codecs each container holds (copy: whatever the input has, which ffmpeg judges when it writes).</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> ContainerVideo = new Dictionary<string, IReadOnlyList<string>>
    {
        [Containers.Mp4] = [VideoCodecs.H264, VideoCodecs.Hevc, VideoCodecs.Av1, VideoCodecs.Vp9, VideoCodecs.Copy],
        [Containers.Mkv] = [VideoCodecs.H264, VideoCodecs.Hevc, VideoCodecs.Av1, VideoCodecs.Vp9, VideoCodecs.Copy],
        [Containers.Webm] = [VideoCodecs.Av1, VideoCodecs.Vp9, VideoCodecs.Copy],
    };

    /// <summary>The audio choices each container holds.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> ContainerAudio = new Dictionary<string, IReadOnlyList<string>>
    {
        [Containers.Mp4] = [AudioCodecs.Copy, AudioCodecs.Aac, AudioCodecs.Opus],
        [Containers.Mkv] = [AudioCodecs.Copy, AudioCodecs.Aac, AudioCodecs.Opus],
        [Containers.Webm] = [AudioCodecs.Copy, AudioCodecs.Opus],
    };

    public static EncoderInfo? Find(string? name) => Encoders.FirstOrDefault(encoder => encoder.Name == name);

    /// <summary>The encoder a job asking for <paramref name="codec"/> gets when it names none; null for copy.</summary>
    public static EncoderInfo? DefaultFor(string codec) => Encoders.FirstOrDefault(encoder => encoder.Codec == codec);

    /// <summary>The software encoders: what a worker with ffmpeg is expected to have without any device.</summary>
    public static IEnumerable<EncoderInfo> Software => Encoders.Where(encoder => encoder.Hardware is null);

    private static string[] Numbers(int from, int to) => Enumerable.Range(from, to - from + 1).Select(n => n.ToString()).ToArray();
}
