using System.Globalization;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>One rendition of a ladder: its picture size and the bitrate its video is capped at (what BANDWIDTH advertises).</summary>
public sealed record Rung(int Width, int Height, int MaxrateKbps)
{
    /// <summary>Its folder (HLS) and variant name: "720p".</summary>
    public string Name => $"{Height}p";
}

/// <summary>
/// The ffmpeg arguments of a package (<see cref="PackageSpec"/>): the input decoded once, split into one scaled
/// picture per rung, each encoded with libx264 at the job's quality; keyframes forced at every segment boundary
/// (and no scene-cut keyframes) so every rendition is cut at the same times; the first kept audio track encoded
/// once to AAC and shared by every variant. HLS writes CMAF (fMP4) segments, a playlist per rendition and
/// master.m3u8; DASH writes manifest.mpd with one video and one audio adaptation set.
/// </summary>
public static class PackageArguments
{
    /// <summary>The HLS variant (and folder) of the shared audio rendition.</summary>
    public const string AudioName = "audio";

    /// <summary>Each rendition's playlist inside its folder (HLS).</summary>
    public const string VariantPlaylist = "index.m3u8";

    /// <summary>
    /// The cap of a rung the job gave no bitrate for: 0.1 bit per pixel at 30 frames a second, which gives about
    /// 6.2 Mbit/s at 1080p, 2.8 at 720p, 1.2 at 480p, 690 kbit/s at 360p and 110 at 144p — within the range of
    /// Apple's HLS authoring ladder. The CRF decides the quality; the cap only keeps easy-to-stream peaks.
    /// </summary>
    private const double BitsPerPixelSecond = 3.0;

    /// <summary>The audio bitrate when the job names none.</summary>
    public const string DefaultAudioBitrate = "128k";

    /// <summary>What libx264 runs at when the job's own quality and speed are another encoder's (say, an HEVC job's package).</summary>
    private const string DefaultCrf = "23";

    /// <summary>
    /// The rungs for <paramref name="input"/>: the spec's heights not above the input's (the lowest when all are,
    /// <see cref="PackageSpec.HeightsFor"/>), highest first; each as wide as the input's aspect makes it, even, as
    /// scale=-2:H computes it. The cap is the job's bitrate at the top rung, scaled by pixels below it, or
    /// <see cref="BitsPerPixelSecond"/> without one.
    /// </summary>
    public static IReadOnlyList<Rung> Rungs(PackageSpec spec, int inputWidth, int inputHeight, EncodeSettings settings)
    {
        // 4:2:0 needs an even height; a rung asked odd is encoded one line shorter.
        var heights = spec.HeightsFor(inputHeight).Select(height => height - height % 2).Where(height => height > 0).Distinct().ToList();
        var sizes = heights.Select(height => (Width: EvenScaled(height, inputWidth, inputHeight), Height: height)).ToList();
        var top = (double)sizes[0].Width * sizes[0].Height;
        var asked = X264(settings) && settings.Bitrate is { } bitrate ? Kbps(bitrate) : (double?)null;
        return [.. sizes.Select(size => new Rung(size.Width, size.Height, (int)Math.Max(1, Math.Round(
            asked is { } topKbps ? topKbps * size.Width * size.Height / top : size.Width * size.Height * BitsPerPixelSecond / 1000))))];
    }

    /// <summary>
    /// <paramref name="length"/> scaled by <paramref name="numerator"/>/<paramref name="denominator"/> and rounded to the
    /// nearest even number, halves away from zero: exactly what ffmpeg's scale filter gives for a side of -2.
    /// </summary>
    public static int EvenScaled(int length, int numerator, int denominator) =>
        (int)(((long)length * numerator + denominator) / (2L * denominator) * 2);

    /// <summary>
    /// The package's arguments: <paramref name="folder"/> receives everything (see <see cref="PackageWork"/> for the layout).
    /// <paramref name="audioIndex"/> is the input stream encoded as the shared audio, null for none.
    /// </summary>
    public static IReadOnlyList<string> Build(string input, string folder, PackageSpec spec, IReadOnlyList<Rung> rungs, EncodeSettings settings,
        ProbeResult probed, int? audioIndex)
    {
        List<string> args = ["-hide_banner", "-nostdin", "-y", .. Ffmpeg.InputArguments(input)];
        args.AddRange(["-filter_complex", FilterGraph(rungs, MapsToSdr(settings, probed))]);
        for (var index = 0; index < rungs.Count; index++) args.AddRange(["-map", $"[v{index}]"]);
        if (audioIndex is { } audio) args.AddRange(["-map", $"0:{audio}"]);
        args.AddRange(Video(spec, rungs, settings));
        if (audioIndex is not null)
            // Always AAC (an Opus or copied track too), stereo: what every browser and set-top box plays; a 5.1 track is
            // mixed down. An AAC job's bitrate carries over; another codec's would mean something else.
            args.AddRange(["-c:a", "aac", "-b:a", settings.Audio == AudioCodecs.Aac && settings.AudioBitrate is { } bitrate
                ? bitrate : DefaultAudioBitrate, "-ac", "2"]);
        // Subtitles, data and chapters do not go into the segments.
        args.AddRange(["-sn", "-dn", "-map_chapters", "-1"]);
        args.AddRange(["-progress", "pipe:1", "-nostats"]);
        args.AddRange(spec.Format == PackageFormats.Dash ? Dash(folder, spec, audioIndex is not null) : Hls(folder, spec, rungs, audioIndex is not null));
        return args;
    }

    /// <summary>Whether the job's own quality and speed are libx264's (the package's encoder), so they carry over.</summary>
    private static bool X264(EncodeSettings settings) => settings.Encoder == EncoderCatalog.Libx264;

    /// <summary>An HDR input asked to be made SDR: the tone map runs once, before the split.</summary>
    private static bool MapsToSdr(EncodeSettings settings, ProbeResult probed) => settings.Tonemap == ToneMaps.Sdr && probed.Hdr != HdrKinds.None;

    /// <summary>
    /// Why the input cannot be packaged as the job asks, before anything runs; null when it can. A package is H.264
    /// at 8 bits, which no player shows HDR from: an HDR input must be tone-mapped.
    /// </summary>
    public static string? HdrProblem(EncodeSettings settings, ProbeResult probed) =>
        probed.Hdr == HdrKinds.None || MapsToSdr(settings, probed) ? null
            : $"the input is HDR ({probed.Hdr}), and a package is H.264 at 8 bits, which cannot hold it; set \"tonemap\": \"sdr\" to map it to SDR";

    /// <summary>
    /// One decode of the first video stream, split into one branch per rung: scaled to the rung's height keeping the
    /// aspect, 8-bit 4:2:0. The scale filter sets each rendition's sample aspect ratio so that its display aspect is
    /// exactly the input's (426x240 of a 16:9 input is 640:639): DASH refuses an adaptation set whose
    /// representations' display aspects differ, and every player then draws each rendition the same shape.
    /// </summary>
    public static string FilterGraph(IReadOnlyList<Rung> rungs, bool toneMap)
    {
        var head = toneMap ? string.Join(",", EncodeArguments.ToneMapFilters(tenBit: false)) + "," : "";
        var split = $"[0:v:0]{head}split={rungs.Count}{string.Concat(rungs.Select((_, index) => $"[s{index}]"))}";
        return string.Join(";", rungs.Select((rung, index) => $"[s{index}]scale=-2:{rung.Height},format=yuv420p[v{index}]").Prepend(split));
    }

    private static List<string> Video(PackageSpec spec, IReadOnlyList<Rung> rungs, EncodeSettings settings)
    {
        var x264 = X264(settings);
        List<string> args = ["-c:v", EncoderCatalog.Libx264, "-preset", x264 && settings.Preset is { } preset ? preset
            : EncoderCatalog.Find(EncoderCatalog.Libx264)!.DefaultPreset!];
        // Capped quality: the job's CRF (or x264's usual one) under each rung's cap; with a bitrate, that bitrate per rung.
        var byBitrate = x264 && settings.Bitrate is not null;
        if (!byBitrate) args.AddRange(["-crf", x264 && settings.Crf is { } crf ? crf : DefaultCrf]);
        for (var index = 0; index < rungs.Count; index++)
        {
            var cap = rungs[index].MaxrateKbps;
            if (byBitrate) args.AddRange([$"-b:v:{index}", $"{cap}k"]);
            args.AddRange([$"-maxrate:v:{index}", $"{cap}k", $"-bufsize:v:{index}", $"{2 * cap}k"]);
        }
        // A keyframe at every segment boundary and none elsewhere (sc_threshold 0 stops scene-cut ones), in every
        // rendition alike: each segment starts with one, and a player can switch renditions at any boundary.
        var seconds = spec.SegmentSeconds.ToString(CultureInfo.InvariantCulture);
        args.AddRange(["-force_key_frames", $"expr:gte(t,n_forced*{seconds})", "-sc_threshold", "0"]);
        return args;
    }

    /// <summary>
    /// HLS: fMP4 segments in one folder per variant ("720p/index.m3u8", "720p/init_0.mp4", "720p/seg_00000.m4s"), the
    /// audio in "audio/", and master.m3u8 naming them, the audio as the group every video variant plays with.
    /// </summary>
    private static List<string> Hls(string folder, PackageSpec spec, IReadOnlyList<Rung> rungs, bool audio)
    {
        var group = audio ? $",agroup:{AudioName}" : "";
        var variants = rungs.Select((rung, index) => $"v:{index}{group},name:{rung.Name}").ToList();
        if (audio) variants.Add($"a:0{group},name:{AudioName}");
        return
        [
            "-f", "hls", "-hls_time", spec.SegmentSeconds.ToString(CultureInfo.InvariantCulture), "-hls_playlist_type", "vod",
            "-hls_flags", "independent_segments", "-hls_segment_type", "fmp4",
            "-hls_segment_filename", Path.Combine(folder, "%v", "seg_%05d.m4s"),
            "-master_pl_name", PackageFormats.Manifest(PackageFormats.Hls),
            "-var_stream_map", string.Join(' ', variants),
            Path.Combine(folder, "%v", VariantPlaylist),
        ];
    }

    /// <summary>
    /// DASH: manifest.mpd with a video adaptation set (one representation per rung, ids from 0, highest first) and an
    /// audio one (the next id); beside it "init-0.mp4" and "seg-0-00001.m4s" per representation.
    /// </summary>
    private static List<string> Dash(string folder, PackageSpec spec, bool audio) =>
    [
        "-f", "dash", "-seg_duration", spec.SegmentSeconds.ToString(CultureInfo.InvariantCulture), "-use_template", "1", "-use_timeline", "1",
        "-adaptation_sets", audio ? "id=0,streams=v id=1,streams=a" : "id=0,streams=v",
        "-init_seg_name", "init-$RepresentationID$.mp4", "-media_seg_name", "seg-$RepresentationID$-$Number%05d$.m4s",
        Path.Combine(folder, PackageFormats.Manifest(PackageFormats.Dash)),
    ];

    /// <summary>A canonical bitrate ("2500k", as the host stores it) in kbit/s.</summary>
    private static double Kbps(string bitrate) => bitrate.EndsWith('k')
        ? double.Parse(bitrate[..^1], CultureInfo.InvariantCulture)
        : double.Parse(bitrate, CultureInfo.InvariantCulture) / 1000;
}
