using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>
/// Profiles every host has, kept in code rather than in the database so that they are the same on
/// every host and every version can improve them; they cannot be changed or deleted through the API
/// (save a copy under another name). A job copies its profile's settings at enqueue, so a change
/// here never changes a queued job.
/// </summary>
public static class BuiltInProfiles
{
    public static readonly IReadOnlyDictionary<string, EncodeSettings> All = new Dictionary<string, EncodeSettings>(StringComparer.Ordinal)
    {
        // Plays everywhere: today's encode, with AAC at a fixed rate.
        ["h264-compatible"] = new() { Crf = "23", Preset = "medium", AudioBitrate = "160k" },
        // For phones and the web: at most 720 lines.
        ["h264-720p"] = new() { Crf = "23", Preset = "medium", MaxHeight = 720, AudioBitrate = "128k" },
        // Smaller files for a library: HEVC, 10-bit (less banding), kept only if smaller than the source.
        ["hevc-library"] = new()
        {
            VideoCodec = VideoCodecs.Hevc, Encoder = "libx265", Crf = "24", Preset = "medium", BitDepth = 10,
            Container = Containers.Mkv, Audio = AudioCodecs.Copy, Subtitles = SubtitleModes.Copy, SkipIfLarger = true,
        },
        // Archive: AV1 with a measured floor on quality.
        ["av1-archive"] = new()
        {
            VideoCodec = VideoCodecs.Av1, Encoder = "libsvtav1", Crf = "30", Preset = "6", BitDepth = 10,
            Container = Containers.Mkv, Audio = AudioCodecs.Opus, AudioBitrate = "128k", Subtitles = SubtitleModes.Copy,
            MinSsim = 0.95, SkipIfLarger = true,
        },
        // For the web without patents: VP9 and Opus in WebM.
        ["vp9-webm"] = new()
        {
            VideoCodec = VideoCodecs.Vp9, Encoder = "libvpx-vp9", Crf = "32", Preset = "4",
            Container = Containers.Webm, Audio = AudioCodecs.Opus, AudioBitrate = "128k",
        },
        // Adaptive streaming for the web: an HLS ladder of 1080/720/480/360 lines (as high as the input goes) with a scrubbing storyboard.
        ["web-ladder"] = new()
        {
            Crf = "23", Preset = "fast", AudioBitrate = "128k",
            Package = new PackageSpec(PackageFormats.Hls, PackageSpec.DefaultLadder, PackageSpec.DefaultSegmentSeconds),
            Thumbnails = new ThumbnailsSpec(10, 160),
        },
        // A long film encoded by every idle worker at once: 60-second chunks of HEVC 10-bit, joined and checked as a whole.
        ["hevc-chunked-archive"] = new()
        {
            VideoCodec = VideoCodecs.Hevc, Encoder = "libx265", Crf = "22", Preset = "slow", BitDepth = 10,
            Container = Containers.Mkv, Audio = AudioCodecs.Copy, Subtitles = SubtitleModes.Copy, MinSsim = 0.95, SplitSeconds = 60,
        },
        // A container change only: the streams as they are, into MKV.
        ["remux-mkv"] = new()
        {
            VideoCodec = VideoCodecs.Copy, Encoder = null, Container = Containers.Mkv, Audio = AudioCodecs.Copy, Subtitles = SubtitleModes.Copy,
        },
    };
}
