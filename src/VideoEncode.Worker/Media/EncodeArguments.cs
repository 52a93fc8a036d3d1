using System.Globalization;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>
/// The ffmpeg arguments of one job's encode, built from exactly what its <see cref="EncodeSettings"/> say,
/// as a list (no quoting needed or wanted). The host validated the settings against
/// <see cref="EncoderCatalog"/> at enqueue, so nothing is refused here: this only translates each
/// setting into the options of the encoder that carries it out. A job without settings (a row older
/// than them) is today's libx264 encode, and its arguments are exactly what they always were.
/// </summary>
public static class EncodeArguments
{
    /// <summary>Where a VAAPI encoder finds its GPU: the first render node, which is the GPU on a machine with one.</summary>
    public const string VaapiDevice = "/dev/dri/renderD128";

    /// <summary>
    /// The codec the output's video stream must have: the one asked for, or the input's
    /// (<paramref name="inputVideoCodec"/>, as ffprobe names it) when the video is copied.
    /// </summary>
    public static string? OutputVideoCodec(EncodeSettings settings, string? inputVideoCodec) =>
        settings.VideoCodec == VideoCodecs.Copy ? inputVideoCodec : settings.VideoCodec;

    /// <summary>
    /// Subtitle codecs drawn as pictures (Blu-ray, DVD, DVB): Matroska holds them as they are, but MP4's
    /// timed text and WebM's WebVTT are text, and ffmpeg cannot turn a picture into text.
    /// </summary>
    private static readonly string[] PictureSubtitles = ["hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "dvb_teletext", "xsub"];

    /// <summary>
    /// The input's streams the encode keeps, in the input's order: the first video stream; the audio
    /// tracks in <see cref="EncodeSettings.AudioLanguages"/> and those untagged (every track when that would
    /// leave none); the subtitle tracks likewise, when the job copies them; attachments (fonts) in Matroska,
    /// the one container here that holds them. Data streams are never taken along.
    /// </summary>
    public static IReadOnlyList<ProbedStream> Kept(EncodeSettings settings, ProbeResult input)
    {
        var video = input.Streams.FirstOrDefault(stream => stream.Kind == "video");
        var audio = Chosen(input.Streams.Where(stream => stream.Kind == "audio").ToList(), settings.AudioLanguages);
        if (audio.Count == 0) audio = input.Streams.Where(stream => stream.Kind == "audio").ToList();
        var subtitles = settings.Subtitles == SubtitleModes.Copy
            ? Chosen(input.Streams.Where(stream => stream.Kind == "subtitle").ToList(), settings.SubtitleLanguages) : [];
        var attachments = settings.Container == Containers.Mkv ? input.Streams.Where(stream => stream.Kind == "attachment") : [];
        return [.. video is null ? [] : new[] { video }, .. audio, .. subtitles, .. attachments];
    }

    /// <summary>The tracks in <paramref name="languages"/> or with no language tag ("und" is none); all of them when no languages are named.</summary>
    private static List<ProbedStream> Chosen(List<ProbedStream> tracks, IReadOnlyList<string>? languages) => languages is null ? tracks
        : tracks.Where(track => track.Language is null or "und" || languages.Contains(track.Language, StringComparer.OrdinalIgnoreCase)).ToList();

    /// <summary>
    /// Why the job's subtitles cannot be copied into its container, judged from the input's subtitle
    /// codecs (those the job keeps) before anything runs (ffmpeg would fail the encode with a less helpful message); null when they can.
    /// </summary>
    public static string? SubtitleProblem(EncodeSettings settings, ProbeResult input)
    {
        if (settings.Subtitles != SubtitleModes.Copy || settings.Container == Containers.Mkv) return null;
        var pictures = Kept(settings, input).Where(stream => stream.Kind == "subtitle").Select(stream => stream.Codec)
            .Where(PictureSubtitles.Contains).Distinct().ToList();
        return pictures.Count == 0 ? null
            : $"the input's subtitles ({string.Join(", ", pictures)}) are pictures, which {settings.Container} cannot hold " +
              "(it takes text subtitles only); encode into mkv, or set subtitles to drop";
    }

    /// <summary>Whether the job's output keeps an HDR input's HDR: it is not tone-mapped, and is copied or encoded where HDR fits.</summary>
    public static bool KeepsHdr(EncodeSettings settings, ProbeResult input) =>
        input.Hdr != HdrKinds.None && settings.Tonemap is null && (settings.VideoCodec == VideoCodecs.Copy || HoldsHdr(settings));

    /// <summary>HEVC, AV1 or VP9 (profile 2) at 10 bits carry PQ and HLG; 8 bits band, and H.264 has no HDR players.</summary>
    private static bool HoldsHdr(EncodeSettings settings) =>
        settings.BitDepth == 10 && settings.VideoCodec is VideoCodecs.Hevc or VideoCodecs.Av1 or VideoCodecs.Vp9;

    /// <summary>
    /// Why an HDR input cannot be encoded as the job asks (an 8-bit or H.264 output would keep the PQ or HLG
    /// signal in a form no player shows right: washed-out, grey pictures), before anything runs; null when it can.
    /// </summary>
    public static string? HdrProblem(EncodeSettings settings, ProbeResult input)
    {
        if (input.Hdr == HdrKinds.None || settings.Tonemap is not null || settings.VideoCodec == VideoCodecs.Copy || HoldsHdr(settings)) return null;
        return $"the input is HDR ({input.Hdr}), which {settings.VideoCodec} at {settings.BitDepth} bits cannot hold; " +
               "choose video_codec hevc or av1 with bit_depth 10 to keep it, or set \"tonemap\": \"sdr\" to map it to SDR";
    }

    /// <summary>The encode's arguments for the input <paramref name="probed"/> describes (its streams, colour, HDR metadata).</summary>
    public static IReadOnlyList<string> Build(string input, string output, EncodeSettings settings, ProbeResult probed)
    {
        var encoder = EncoderOf(settings);
        List<string> args = [.. Head(encoder), .. Ffmpeg.InputArguments(input)];
        // Today's encode, as it always ran: the first video stream and every audio stream.
        if (settings.IsLegacy) args.AddRange(["-map", "0:v:0", "-map", "0:a?"]);
        else args.AddRange(Mapped(settings, Kept(settings, probed)));
        args.AddRange(VideoOptions(encoder, settings, probed));
        args.AddRange(HevcTag(settings, OutputVideoCodec(settings, probed.VideoCodec)));
        args.AddRange(AudioOptions(settings));
        args.AddRange(SubtitleOptions(settings, probed));
        args.AddRange(Tail(settings.Container, output));
        return args;
    }

    /// <summary>The encoder a job's video goes through; null when it is copied.</summary>
    internal static EncoderInfo? EncoderOf(EncodeSettings settings) => settings.VideoCodec == VideoCodecs.Copy ? null
        : EncoderCatalog.Find(settings.Encoder) ?? throw new ArgumentException($"The encoder '{settings.Encoder}' is not in the catalog.", nameof(settings));

    /// <summary>What every run starts with: no banner, no keyboard, overwrite the (temporary) output; a VAAPI encoder's device.</summary>
    internal static List<string> Head(EncoderInfo? encoder)
    {
        List<string> args = ["-hide_banner", "-nostdin", "-y"];
        // A global option: it opens the device the hwupload filter uploads frames to.
        if (encoder?.Hardware == EncoderCatalog.Vaapi) args.AddRange(["-vaapi_device", VaapiDevice]);
        return args;
    }

    /// <summary>
    /// The <paramref name="streams"/> of input 0 mapped by index, in that order, and each track's default and forced
    /// flags said outright (numbered from the first output stream), since ffmpeg otherwise marks the first track of a
    /// kind default when the input marked none. Chapters and global tags ffmpeg carries by itself.
    /// </summary>
    internal static List<string> Mapped(EncodeSettings settings, IReadOnlyList<ProbedStream> streams)
    {
        List<string> args = [];
        foreach (var stream in streams) args.AddRange(["-map", $"0:{stream.Index}"]);
        return [.. args, .. Dispositions(settings, streams)];
    }

    /// <summary>The default and forced flags of the output's <paramref name="streams"/>, in output order; none for today's encode, which never set them.</summary>
    internal static List<string> Dispositions(EncodeSettings settings, IReadOnlyList<ProbedStream> streams)
    {
        List<string> args = [];
        if (settings.IsLegacy) return args;
        for (var index = 0; index < streams.Count; index++)
            if (streams[index].Kind is "audio" or "subtitle")
                args.AddRange([$"-disposition:{index}", Disposition(streams[index])]);
        return args;
    }

    /// <summary>The video's options: copied, or the encoder's (<see cref="Video"/>) after <paramref name="firstFilters"/>.</summary>
    internal static List<string> VideoOptions(EncoderInfo? encoder, EncodeSettings settings, ProbeResult probed, IReadOnlyList<string>? firstFilters = null) =>
        encoder is null ? ["-c:v", "copy"] : Video(encoder, settings, probed, firstFilters ?? []);

    /// <summary>Apple's players open HEVC in MP4 only under the hvc1 tag; ffmpeg writes hev1 unless told.</summary>
    internal static string[] HevcTag(EncodeSettings settings, string? videoCodec) =>
        videoCodec == VideoCodecs.Hevc && settings.Container == Containers.Mp4 ? ["-tag:v", "hvc1"] : [];

    /// <summary>The audio encoder, its bitrate, and the channel layouts libopus takes.</summary>
    internal static List<string> AudioOptions(EncodeSettings settings)
    {
        List<string> args = ["-c:a", AudioEncoder(settings.Audio)];
        if (settings.AudioBitrate is { } audioBitrate) args.AddRange(["-b:a", audioBitrate]);
        // libopus takes only the standard layouts: 5.1(side), common on AC-3 and DTS tracks, becomes 5.1.
        if (settings.Audio == AudioCodecs.Opus) args.AddRange(["-af", "aformat=channel_layouts=7.1|5.1|stereo|mono"]);
        return args;
    }

    /// <summary>The subtitles' codec in the job's container, when the job copies them.</summary>
    internal static string[] SubtitleOptions(EncodeSettings settings, ProbeResult probed) =>
        settings.Subtitles == SubtitleModes.Copy ? ["-c:s", SubtitleEncoder(settings.Container, probed.SubtitleCodecs)] : [];

    /// <summary>What every run ends with: MP4's index up front, progress on stdout, and the output in the container's muxer.</summary>
    internal static List<string> Tail(string container, string output)
    {
        List<string> args = [];
        if (container == Containers.Mp4) args.AddRange(["-movflags", "+faststart"]);
        args.AddRange(["-progress", "pipe:1", "-nostats"]);
        // The output's name does not end in the container's extension while it is written, so say the format.
        args.AddRange(["-f", Muxer(container), output]);
        return args;
    }

    private static string Disposition(ProbedStream stream) => (stream.Default, stream.Forced) switch
    {
        (true, true) => "default+forced",
        (true, false) => "default",
        (false, true) => "forced",
        _ => "0",
    };

    /// <summary>The settings in a few words, for the worker's console: "libx265 crf 22, preset slow, 10-bit, audio opus 96k, mkv".</summary>
    public static string Describe(EncodeSettings settings)
    {
        List<string> parts = [settings.VideoCodec == VideoCodecs.Copy ? "video copied"
            : $"{settings.Encoder} {(settings.Bitrate is { } bitrate ? "bitrate " + bitrate : "crf " + settings.Crf)}"];
        if (settings.VideoCodec != VideoCodecs.Copy)
        {
            if (settings.Preset is { } preset) parts.Add("preset " + preset);
            parts.Add($"{settings.BitDepth}-bit");
            if (settings.MaxHeight is { } height) parts.Add($"at most {height} lines");
        }
        parts.Add($"audio {settings.Audio}{(settings.AudioBitrate is { } audioBitrate ? " " + audioBitrate : "")}");
        parts.Add(settings.Container);
        if (settings.Subtitles == SubtitleModes.Copy) parts.Add("subtitles copied");
        if (settings.AudioLanguages is { } audioLanguages) parts.Add("audio in " + string.Join("/", audioLanguages));
        if (settings.SubtitleLanguages is { } subtitleLanguages) parts.Add("subtitles in " + string.Join("/", subtitleLanguages));
        if (settings.Tonemap is { } tonemap) parts.Add("HDR tone-mapped to " + tonemap);
        return string.Join(", ", parts);
    }

    /// <summary>
    /// The video filters (after <paramref name="firstFilters"/>), the encoder with its rate control and speed, the
    /// pixel format, and the colour (HDR kept or tone-mapped).
    /// </summary>
    private static List<string> Video(EncoderInfo encoder, EncodeSettings settings, ProbeResult probed, IReadOnlyList<string> firstFilters)
    {
        var tenBit = settings.BitDepth == 10;
        var vaapi = encoder.Hardware == EncoderCatalog.Vaapi;
        var toneMap = settings.Tonemap == ToneMaps.Sdr && probed.Hdr != HdrKinds.None;
        List<string> filters = [.. firstFilters];
        // Down only, keeping the aspect ratio, with an even width and height (4:2:0 needs both: an input
        // of 241 lines under a 720-line cap stays 240); the quotes keep min()'s comma from splitting the chain.
        if (settings.MaxHeight is { } maxHeight) filters.Add($"scale=-2:'trunc(min(ih,{maxHeight})/2)*2'");
        // To linear light, tone-mapped (hable keeps highlights' detail) in BT.709's primaries, then BT.709's
        // transfer and matrix; after the scale, so the costly part works on the smaller picture.
        if (toneMap) filters.AddRange(ToneMapFilters(tenBit));
        // A VAAPI encoder takes frames in GPU memory: scale in software first, then convert and upload.
        if (vaapi) filters.AddRange([tenBit ? "format=p010" : "format=nv12", "hwupload"]);

        List<string> args = [];
        if (filters.Count > 0) args.AddRange(["-vf", string.Join(",", filters)]);
        args.AddRange(["-c:v", encoder.Name]);
        var family = FamilyOf(encoder);
        args.AddRange(settings.Bitrate is { } bitrate ? ["-b:v", bitrate] : Quality(family, settings.Crf!));
        args.AddRange(Speed(family, settings.Preset ?? encoder.DefaultPreset));
        // Today's encode never named a pixel format (libx264 keeps the input's); every other job says
        // its depth, so a 10-bit or 4:4:4 input cannot make an 8-bit 4:2:0 request into something else.
        if (!settings.IsLegacy && !vaapi) args.AddRange(["-pix_fmt", PixelFormat(encoder, tenBit)]);
        if (toneMap) args.AddRange(["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]);
        else if (KeepsHdr(settings, probed)) args.AddRange(Hdr(family, probed));
        return args;
    }

    /// <summary>An HDR picture tone-mapped to BT.709 SDR at the given depth (a package's ladder tone-maps with it too).</summary>
    internal static IReadOnlyList<string> ToneMapFilters(bool tenBit) =>
        ["zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709", "tonemap=tonemap=hable:desat=0",
            "zscale=t=bt709:m=bt709:r=tv", tenBit ? "format=yuv420p10le" : "format=yuv420p"];

    /// <summary>
    /// An HDR input's colour said to the encoder and the container (primaries, transfer, matrix), and HDR10's
    /// static metadata written into the stream the way the encoder takes it: x265's master-display and
    /// max-cll (with hdr10-opt), SVT-AV1's mastering-display and content-light. Other encoders get the colour only.
    /// </summary>
    private static List<string> Hdr(Family family, ProbeResult probed)
    {
        List<string> args = [];
        if (probed.ColorPrimaries is { } primaries) args.AddRange(["-color_primaries", primaries]);
        if (probed.ColorTransfer is { } transfer) args.AddRange(["-color_trc", transfer]);
        if (probed.ColorSpace is { } space) args.AddRange(["-colorspace", space]);
        var display = probed.MasteringDisplay;
        var light = probed.ContentLightLevel;
        switch (family)
        {
            case Family.X26x when probed.Hdr != HdrKinds.Hlg:
                List<string> x265 = ["hdr10=1", "hdr10-opt=1", "repeat-headers=1"];
                if (display is not null) x265.Add("master-display=" + display.X265);
                if (light is not null) x265.Add("max-cll=" + light);
                args.AddRange(["-x265-params", string.Join(":", x265)]);
                break;
            case Family.SvtAv1 when display is not null || light is not null:
                List<string> svt = [];
                if (display is not null) svt.Add("mastering-display=" + display.SvtAv1);
                if (light is not null) svt.Add("content-light=" + light);
                args.AddRange(["-svtav1-params", string.Join(":", svt)]);
                break;
        }
        return args;
    }

    /// <summary>How an encoder is driven: each family spells quality and speed its own way.</summary>
    private enum Family { X26x, SvtAv1, Aom, Vpx, Nvenc, Qsv, Vaapi }

    /// <summary>The family of an encoder. Every encoder in the catalog has one; a test holds each to that.</summary>
    private static Family FamilyOf(EncoderInfo encoder) => encoder.Hardware switch
    {
        EncoderCatalog.Nvenc => Family.Nvenc,
        EncoderCatalog.Qsv => Family.Qsv,
        EncoderCatalog.Vaapi => Family.Vaapi,
        _ => encoder.Name switch
        {
            EncoderCatalog.Libx264 or "libx265" => Family.X26x,
            "libsvtav1" => Family.SvtAv1,
            "libaom-av1" => Family.Aom,
            "libvpx-vp9" => Family.Vpx,
            _ => throw new ArgumentException($"No ffmpeg options are known for the encoder '{encoder.Name}'.", nameof(encoder)),
        },
    };

    /// <summary>The constant-quality options for <paramref name="crf"/>, on the encoder's own scale.</summary>
    private static string[] Quality(Family family, string crf) => family switch
    {
        Family.X26x => ["-crf", crf],
        Family.SvtAv1 => ["-crf", Whole(crf)],
        // libaom and libvpx treat -crf as a cap on quality unless the bitrate is 0: constant quality.
        Family.Aom or Family.Vpx => ["-crf", Whole(crf), "-b:v", "0"],
        // Constant quality on NVENC is VBR with a quality target and no bitrate ceiling.
        Family.Nvenc => ["-rc", "vbr", "-cq", crf, "-b:v", "0"],
        Family.Qsv => ["-global_quality", Whole(crf)],
        _ => ["-rc_mode", "CQP", "-qp", Whole(crf)],
    };

    /// <summary>The speed options for <paramref name="preset"/> (null: the encoder has no presets).</summary>
    private static string[] Speed(Family family, string? preset) => (family, preset) switch
    {
        (_, null) => [],
        (Family.Aom, _) => ["-cpu-used", preset, "-row-mt", "1"],
        (Family.Vpx, _) => ["-deadline", "good", "-cpu-used", preset, "-row-mt", "1"],
        _ => ["-preset", preset],
    };

    /// <summary>
    /// The pixel format the encoder is fed: 4:2:0 at the asked depth, in the layout the encoder takes
    /// from system memory (NV12/P010 for Quick Sync; NVENC takes planar 8-bit and P010).
    /// </summary>
    private static string PixelFormat(EncoderInfo encoder, bool tenBit) => (encoder.Hardware, tenBit) switch
    {
        (EncoderCatalog.Nvenc or EncoderCatalog.Qsv, true) => "p010le",
        (EncoderCatalog.Qsv, false) => "nv12",
        (_, true) => "yuv420p10le",
        _ => "yuv420p",
    };

    /// <summary>
    /// A quality for an option that takes whole numbers only (SVT-AV1's, libaom's and libvpx's crf,
    /// global_quality, qp): a decimal crf is rounded here, so the command line shows what ran.
    /// </summary>
    private static string Whole(string crf) =>
        Math.Round(decimal.Parse(crf, CultureInfo.InvariantCulture), MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture);

    private static string AudioEncoder(string audio) => audio switch
    {
        AudioCodecs.Copy => "copy",
        AudioCodecs.Opus => "libopus",
        _ => "aac",
    };

    /// <summary>
    /// Subtitles in a form the container holds: MP4 takes timed text, WebM WebVTT, Matroska anything as it
    /// is but MP4's own timed text, which its muxer refuses, so that is made SubRip.
    /// </summary>
    private static string SubtitleEncoder(string container, IReadOnlyList<string> inputCodecs) => container switch
    {
        Containers.Mp4 => "mov_text",
        Containers.Webm => "webvtt",
        _ => inputCodecs.Contains("mov_text") ? "srt" : "copy",
    };

    internal static string Muxer(string container) => container switch
    {
        Containers.Mkv => "matroska",
        Containers.Webm => "webm",
        _ => "mp4",
    };
}
