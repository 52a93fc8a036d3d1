using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>
/// The encode settings of a request (a job's flat fields, or a profile's body), read and then made
/// whole: fields given override the profile the job named (or the defaults), what the override leaves
/// meaningless is dropped (a bitrate drops the crf; another encoder brings its own default preset), and
/// the result is judged against <see cref="EncoderCatalog"/>. One place for the rules, for jobs and
/// profiles alike; the answer names the field at fault.
/// </summary>
internal static partial class EncodeInput
{
    // 64 lines: SVT-AV1's smallest frame, and small enough for any real use.
    public const int MinMaxHeight = 64, MaxMaxHeight = 8640;
    public const int MinVideoKbps = 16, MaxVideoKbps = 1_000_000, MinAudioKbps = 6, MaxAudioKbps = 1024;

    /// <summary>libopus takes at most 256 kbit/s per channel; a mono track is the smallest case.</summary>
    public const int MaxOpusKbps = 256;
    public const double MaxPsnr = 100;

    /// <summary>More languages than any library's tracks have, few enough that settings stay small.</summary>
    public const int MaxLanguages = 20;

    /// <summary>The fields a request gave, each null when absent; a number that could not be read is kept as its problem.</summary>
    public sealed record Fields
    {
        public string? VideoCodec { get; init; }
        public string? Encoder { get; init; }
        public decimal? Crf { get; init; }
        public bool CrfUnreadable { get; init; }
        public string? Bitrate { get; init; }
        public string? Preset { get; init; }
        public int? BitDepth { get; init; }
        public int? MaxHeight { get; init; }
        public string? Audio { get; init; }
        public string? AudioBitrate { get; init; }
        public string? Container { get; init; }
        public string? Subtitles { get; init; }
        public double? MinSsim { get; init; }
        public double? MinPsnr { get; init; }
        public bool? SkipIfLarger { get; init; }
        public IReadOnlyList<string>? AudioLanguages { get; init; }
        public IReadOnlyList<string>? SubtitleLanguages { get; init; }
        public string? Tonemap { get; init; }
        public PackageSpec? Package { get; init; }
        public ThumbnailsSpec? Thumbnails { get; init; }
        public int? SplitSeconds { get; init; }

        /// <summary>A request naming neither a codec nor an encoder nor a profile: the original service's crf + preset.</summary>
        public bool NamesNoEncoder => VideoCodec is null && Encoder is null;
    }

    /// <summary>A field at fault and what is wrong with it (a phrase that follows the field's name).</summary>
    public sealed record Problem(string Field, string Message);

    /// <summary>Reads the encode settings fields of <paramref name="item"/>; a field of the wrong kind or out of every range is a problem at once.</summary>
    public static (Fields? Fields, Problem? Problem) Read(JsonElement item)
    {
        Problem? problem = null;
        string? OneOf(string name, IReadOnlyList<string> allowed)
        {
            if (Field(item, name) is not { } value) return null;
            var text = value.ValueKind == JsonValueKind.String ? value.GetString()!.ToLowerInvariant() : null;
            if (text is null || !allowed.Contains(text)) problem ??= new(name, $"must be one of: {string.Join(", ", allowed)}");
            return text;
        }
        string? Kbps(string name, int min, int max)
        {
            if (Field(item, name) is not { } value) return null;
            var kbps = ReadKbps(value);
            if (kbps is null || kbps < min || kbps > max)
                problem ??= new(name, $"must be a bitrate from {min}k to {max}k: a number of kbit/s (2500) or a string like \"2500k\" or \"2.5M\"");
            return kbps is null ? null : kbps.Value.ToString(CultureInfo.InvariantCulture) + "k";
        }
        double? Number(string name, double min, double max, string says)
        {
            if (Field(item, name) is not { } value) return null;
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < min || number > max)
            {
                problem ??= new(name, says);
                return null;
            }
            return number;
        }

        var encoder = Field(item, "encoder") is { } named
            ? named.ValueKind == JsonValueKind.String && EncoderCatalog.Find(named.GetString()) is { } known ? known.Name : Invalid("encoder",
                $"must be one of: {string.Join(", ", EncoderCatalog.Encoders.Select(e => e.Name))}", ref problem)
            : null;
        // A crf that is not a number is judged once the settings are whole, since its range is the encoder's.
        var crfField = Field(item, "crf");
        var crf = crfField is { } given ? ReadCrf(given) : null;
        string? preset = null;
        if (Field(item, "preset") is { } presetField)
        {
            preset = presetField.ValueKind is JsonValueKind.String ? presetField.GetString()!.ToLowerInvariant()
                : presetField.ValueKind is JsonValueKind.Number ? presetField.GetRawText() : null;
            if (preset is null) problem ??= new("preset", "must be a string naming one of the encoder's presets");
        }
        var bitDepth = Number("bit_depth", 8, 10, "must be 8 or 10") is { } depth && depth is 8 or 10 ? (int)depth
            : Field(item, "bit_depth") is null ? (int?)null : Invalid<int?>("bit_depth", "must be 8 or 10", ref problem);
        var maxHeight = Number("max_height", MinMaxHeight, MaxMaxHeight, HeightRule) is { } height && height % 2 == 0 ? (int)height
            : Field(item, "max_height") is null ? (int?)null : Invalid<int?>("max_height", HeightRule, ref problem);
        bool? skip = null;
        if (Field(item, "skip_if_larger") is { } skipField)
        {
            if (skipField.ValueKind is JsonValueKind.True or JsonValueKind.False) skip = skipField.GetBoolean();
            else problem ??= new("skip_if_larger", "must be true or false");
        }
        IReadOnlyList<string>? Languages(string name)
        {
            if (Field(item, name) is not { } value) return null;
            var languages = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray()
                .Select(language => language.ValueKind == JsonValueKind.String ? language.GetString()!.ToLowerInvariant() : "").ToList() : null;
            if (languages is null || languages.Count is 0 or > MaxLanguages || !languages.All(LanguageCode().IsMatch))
            {
                problem ??= new(name, $"must be a list of 1 to {MaxLanguages} language codes as the input tags its tracks (ISO 639-2: [\"eng\", \"jpn\"])");
                return null;
            }
            return [.. languages.Distinct()];
        }
        var fields = new Fields
        {
            VideoCodec = OneOf("video_codec", VideoCodecs.All),
            Encoder = encoder,
            Crf = crf,
            CrfUnreadable = crfField is not null && crf is null,
            Bitrate = Kbps("bitrate", MinVideoKbps, MaxVideoKbps),
            Preset = preset,
            BitDepth = bitDepth,
            MaxHeight = maxHeight,
            Audio = OneOf("audio", AudioCodecs.All),
            AudioBitrate = Kbps("audio_bitrate", MinAudioKbps, MaxAudioKbps),
            Container = OneOf("container", Containers.All),
            Subtitles = OneOf("subtitles", SubtitleModes.All),
            MinSsim = Number("min_ssim", 0, 1, "must be a number from 0 to 1"),
            MinPsnr = Number("min_psnr", 0, MaxPsnr, $"must be a number of dB from 0 to {MaxPsnr}"),
            SkipIfLarger = skip,
            AudioLanguages = Languages("audio_languages"),
            SubtitleLanguages = Languages("subtitle_languages"),
            Tonemap = OneOf("tonemap", ToneMaps.All),
            Package = TaskInput.ReadPackage(Field(item, "package"), ref problem),
            Thumbnails = TaskInput.ReadThumbnails(Field(item, "thumbnails"), ref problem),
            SplitSeconds = TaskInput.ReadSplitSeconds(Field(item, "split_seconds"), ref problem),
        };
        return problem is null ? (fields, null) : (null, problem);
    }

    private static readonly string HeightRule = $"must be an even whole number of lines from {MinMaxHeight} to {MaxMaxHeight}";

    /// <summary>
    /// Makes the settings whole: <paramref name="fields"/> over <paramref name="profile"/> (or the
    /// defaults). <paramref name="requirePreset"/> keeps the original service's rule that crf and
    /// preset are both given when a request names nothing else.
    /// </summary>
    public static (EncodeSettings? Settings, Problem? Problem) Resolve(EncodeSettings? profile, Fields fields, bool requirePreset)
    {
        var (settings, problem) = Whole(profile, fields, requirePreset);
        // A request of crf and preset and nothing else is the original service's encode, as it always was:
        // subtitles dropped, and any worker can run it.
        return profile is null && fields.Subtitles is null && settings is not null && settings with { Subtitles = SubtitleModes.Drop } is { IsLegacy: true } legacy
            ? (legacy, null) : (settings, problem);
    }

    private static (EncodeSettings? Settings, Problem? Problem) Whole(EncodeSettings? profile, Fields fields, bool requirePreset)
    {
        // Without a profile the defaults keep every track; crf and preset alone stay the original service's
        // encode, subtitles dropped, which any worker can run (Legacy below).
        var start = profile ?? EncodeSettings.Defaults;
        EncoderInfo? chosen = fields.Encoder is { } named ? EncoderCatalog.Find(named) : null;
        var codec = fields.VideoCodec ?? chosen?.Codec ?? start.VideoCodec;
        if (chosen is not null && chosen.Codec != codec)
            return Fail("encoder", $"{chosen.Name} makes {chosen.Codec}, not {codec}; name a {codec} encoder ({EncodersOf(codec)}) or leave encoder out");
        if (codec == VideoCodecs.Copy && fields.CrfUnreadable) return Fail("crf", "cannot be used with video_codec copy, which keeps the video stream as it is");
        if (codec == VideoCodecs.Copy)
            return CopyStream(start, fields);
        var encoder = chosen ?? (codec == start.VideoCodec && EncoderCatalog.Find(start.Encoder) is { } kept ? kept : EncoderCatalog.DefaultFor(codec)!);
        var sameEncoder = encoder.Name == start.Encoder;

        if ((fields.Crf is not null || fields.CrfUnreadable) && fields.Bitrate is not null)
            return Fail("bitrate", "cannot be given with crf: choose constant quality (crf) or a bitrate");
        // A crf carries over only within one codec: x264's 23 and SVT-AV1's 23 are different qualities.
        var sameCodec = codec == start.VideoCodec;
        var crf = fields.Crf is { } asked ? Canonical(asked) : fields.Bitrate is null && sameCodec ? start.Crf : null;
        var bitrate = fields.Bitrate ?? (fields.Crf is null ? start.Bitrate : null);
        if (fields.CrfUnreadable || crf is null && bitrate is null || crf is not null && decimal.Parse(crf, CultureInfo.InvariantCulture) > encoder.MaxCrf)
            return Fail("crf", $"is required and must be a number from 0 to {encoder.MaxCrf} (a string like \"23\" or a number)" +
                (fields.NamesNoEncoder && profile is null ? "" : ", or give bitrate instead") +
                (profile?.Crf is not null && !sameCodec ? $" (the profile's crf is on {start.Encoder}'s scale, not {encoder.Name}'s)" : ""));

        string? preset;
        if (encoder.Presets.Count == 0)
        {
            if (fields.Preset is not null) return Fail("preset", $"cannot be used with {encoder.Name}, which has no presets; leave it out");
            preset = null;
        }
        else
        {
            // A preset the request gave must fit; one carried over from the profile must fit too, or
            // the new encoder's default takes its place (x264's "medium" means nothing to NVENC).
            preset = fields.Preset ?? (sameEncoder || encoder.Presets.Contains(start.Preset ?? "") ? start.Preset : null);
            if (preset is null && requirePreset && fields.NamesNoEncoder)
                return Fail("preset", $"is required and must be one of: {string.Join(", ", encoder.Presets)}");
            preset ??= encoder.DefaultPreset;
            if (!encoder.Presets.Contains(preset!))
                return Fail("preset", $"must be one of {encoder.Name}'s presets: {string.Join(", ", encoder.Presets)}");
        }

        var bitDepth = fields.BitDepth ?? start.BitDepth;
        if (!encoder.BitDepths.Contains(bitDepth))
            return Fail("bit_depth", $"{bitDepth} is not written by {encoder.Name}; it writes {string.Join(" or ", encoder.BitDepths)}-bit");
        return Finish(start with
        {
            VideoCodec = codec, Encoder = encoder.Name, Crf = crf, Bitrate = bitrate, Preset = preset, BitDepth = bitDepth,
            MaxHeight = fields.MaxHeight ?? start.MaxHeight,
        }, fields);
    }

    /// <summary>A stream copy: no encoder, so nothing that only an encoder does may be asked for.</summary>
    private static (EncodeSettings?, Problem?) CopyStream(EncodeSettings start, Fields fields)
    {
        foreach (var (name, given) in new[] { ("encoder", fields.Encoder is not null), ("crf", fields.Crf is not null),
                     ("bitrate", fields.Bitrate is not null), ("preset", fields.Preset is not null), ("max_height", fields.MaxHeight is not null),
                     ("bit_depth", fields.BitDepth is not null and not 8), ("tonemap", fields.Tonemap is not null) })
            if (given) return Fail(name, "cannot be used with video_codec copy, which keeps the video stream as it is");
        return Finish(start with { VideoCodec = VideoCodecs.Copy, Encoder = null, Crf = null, Bitrate = null, Preset = null, BitDepth = 8, MaxHeight = null },
            fields);
    }

    /// <summary>The parts any video choice shares: audio, container, subtitles and the checks; then whether the container holds it all.</summary>
    private static (EncodeSettings?, Problem?) Finish(EncodeSettings video, Fields fields)
    {
        var audio = fields.Audio ?? video.Audio;
        var settings = video with
        {
            Audio = audio,
            AudioBitrate = audio == AudioCodecs.Copy ? null : fields.AudioBitrate ?? (audio == video.Audio ? video.AudioBitrate : null),
            Container = fields.Container ?? video.Container,
            Subtitles = fields.Subtitles ?? video.Subtitles,
            MinSsim = fields.MinSsim ?? video.MinSsim,
            MinPsnr = fields.MinPsnr ?? video.MinPsnr,
            SkipIfLarger = fields.SkipIfLarger ?? video.SkipIfLarger,
            AudioLanguages = fields.AudioLanguages ?? video.AudioLanguages,
            SubtitleLanguages = fields.SubtitleLanguages ?? video.SubtitleLanguages,
            Tonemap = fields.Tonemap ?? video.Tonemap,
            Package = fields.Package ?? video.Package,
            Thumbnails = fields.Thumbnails ?? video.Thumbnails,
            SplitSeconds = fields.SplitSeconds ?? video.SplitSeconds,
        };
        if (TaskInput.Problem(settings) is { } taskProblem) return (null, taskProblem);
        if (settings.Subtitles == SubtitleModes.Drop && fields.SubtitleLanguages is not null)
            return Fail("subtitle_languages", "cannot be used with subtitles drop, which keeps no subtitles");

        if (audio == AudioCodecs.Copy && fields.AudioBitrate is not null)
            return Fail("audio_bitrate", "cannot be used with audio copy, which keeps the audio as it is");
        if (settings.Audio == AudioCodecs.Opus && settings.AudioBitrate is { } opusRate && int.Parse(opusRate[..^1]) > MaxOpusKbps)
            return Fail("audio_bitrate", $"{opusRate} is more than opus takes: at most {MaxOpusKbps}k");
        var holds = EncoderCatalog.ContainerVideo[settings.Container];
        if (!holds.Contains(settings.VideoCodec))
            return Fail("container", $"{settings.Container} cannot hold {settings.VideoCodec} video; it holds {string.Join(", ", holds)}");
        var holdsAudio = EncoderCatalog.ContainerAudio[settings.Container];
        if (!holdsAudio.Contains(settings.Audio))
            return Fail("audio", $"{settings.Audio} cannot go into {settings.Container}; it takes {string.Join(", ", holdsAudio)}");
        return (settings, null);
    }

    private static string EncodersOf(string codec) =>
        string.Join(", ", EncoderCatalog.Encoders.Where(encoder => encoder.Codec == codec).Select(encoder => encoder.Name));

    private static (EncodeSettings?, Problem?) Fail(string field, string message) => (null, new Problem(field, message));

    private static T? Invalid<T>(string field, string message, ref Problem? problem)
    {
        problem ??= new Problem(field, message);
        return default;
    }

    private static string? Invalid(string field, string message, ref Problem? problem) => Invalid<string>(field, message, ref problem);

    /// <summary>"23", 23, "23.50" and 23.5 are 23 and 23.5; anything else (or above the widest scale) is not a crf.</summary>
    private static decimal? ReadCrf(JsonElement crf)
    {
        decimal value;
        if (crf.ValueKind == JsonValueKind.Number)
        {
            if (!crf.TryGetDecimal(out value)) return null;
        }
        else if (crf.ValueKind == JsonValueKind.String)
        {
            var text = crf.GetString()!;
            if (!PlainDecimal().IsMatch(text)) return null;
            value = decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        }
        else return null;
        return value >= 0 && value <= EncoderCatalog.Encoders.Max(encoder => encoder.MaxCrf) ? value : null;
    }

    /// <summary>The canonical string of a crf, as the original service returned it: "23", "23.5".</summary>
    public static string Canonical(decimal crf) => crf.ToString("0.##########", CultureInfo.InvariantCulture);

    /// <summary>2500, "2500", "2500k", "2.5M" (and "2.5m") are 2500 kbit/s; null when it is none of those or not whole.</summary>
    private static long? ReadKbps(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number) return value.TryGetInt64(out var plain) ? plain : null;
        if (value.ValueKind != JsonValueKind.String) return null;
        var match = Bitrate().Match(value.GetString()!);
        if (!match.Success) return null;
        var number = decimal.Parse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var kbps = match.Groups[2].Value.ToLowerInvariant() == "m" ? number * 1000 : number;
        return kbps == decimal.Truncate(kbps) && kbps <= long.MaxValue / 2 ? (long)kbps : null;
    }

    private static JsonElement? Field(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>ISO 639-2 (three letters, as Matroska and MP4 tag tracks) or 639-1 (two).</summary>
    [GeneratedRegex("^[a-z]{2,3}$")]
    private static partial Regex LanguageCode();

    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,10})?$")]
    private static partial Regex PlainDecimal();

    [GeneratedRegex(@"^([0-9]{1,9}(?:\.[0-9]{1,3})?)([kKmM]?)$")]
    private static partial Regex Bitrate();
}
