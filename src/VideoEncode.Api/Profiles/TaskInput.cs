using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>
/// The settings that make a job of tasks — "package", "thumbnails" and "split_seconds" — read like every
/// other setting (a job's fields, or a profile's), and the combinations they cannot be in.
/// </summary>
internal static class TaskInput
{
    public const int MaxLadderRungs = 8, MinSegmentSeconds = 1, MaxSegmentSeconds = 60;
    public const int MinEverySeconds = 1, MaxEverySeconds = 3600, MinThumbnailWidth = 16, MaxThumbnailWidth = 1920;
    public const int MinSplitSeconds = 10, MaxSplitSeconds = 86_400;

    private static readonly string PackageRule =
        $"must be an object like {{\"format\": \"hls\" or \"dash\", \"ladder\": [1080, 720, 480, 360], \"segment_seconds\": 4}}: " +
        $"1 to {MaxLadderRungs} even heights from {EncodeInput.MinMaxHeight} to {EncodeInput.MaxMaxHeight}, segments of {MinSegmentSeconds} to {MaxSegmentSeconds} s";

    private static readonly string ThumbnailsRule =
        $"must be an object like {{\"every_seconds\": 10, \"width\": 160}}: a picture every {MinEverySeconds} to {MaxEverySeconds} s, " +
        $"an even width from {MinThumbnailWidth} to {MaxThumbnailWidth} pixels";

    public static PackageSpec? ReadPackage(JsonElement? value, ref EncodeInput.Problem? problem)
    {
        if (value is not { } given) return null;
        var format = Text(given, "format");
        var ladder = given.ValueKind == JsonValueKind.Object && Property(given, "ladder") is { } rungs ? Heights(rungs) : PackageSpec.DefaultLadder;
        var segment = WholeNumber(given, "segment_seconds", MinSegmentSeconds, MaxSegmentSeconds, PackageSpec.DefaultSegmentSeconds);
        if (given.ValueKind != JsonValueKind.Object || format is null || !PackageFormats.All.Contains(format) || ladder is null || segment is null
            || !OnlyKnown(given, "format", "ladder", "segment_seconds"))
        {
            problem ??= new("package", PackageRule);
            return null;
        }
        return new PackageSpec(format, ladder, segment.Value);
    }

    public static ThumbnailsSpec? ReadThumbnails(JsonElement? value, ref EncodeInput.Problem? problem)
    {
        if (value is not { } given) return null;
        var every = WholeNumber(given, "every_seconds", MinEverySeconds, MaxEverySeconds, 10);
        var width = WholeNumber(given, "width", MinThumbnailWidth, MaxThumbnailWidth, 160);
        if (given.ValueKind != JsonValueKind.Object || every is null || width is null || width % 2 != 0 || !OnlyKnown(given, "every_seconds", "width"))
        {
            problem ??= new("thumbnails", ThumbnailsRule);
            return null;
        }
        return new ThumbnailsSpec(every.Value, width.Value);
    }

    public static int? ReadSplitSeconds(JsonElement? value, ref EncodeInput.Problem? problem)
    {
        if (value is not { } given) return null;
        if (given.ValueKind == JsonValueKind.Number && given.TryGetInt32(out var seconds) && seconds is >= MinSplitSeconds and <= MaxSplitSeconds)
            return seconds;
        problem ??= new("split_seconds", $"must be a whole number of seconds from {MinSplitSeconds} to {MaxSplitSeconds}");
        return null;
    }

    /// <summary>What whole settings cannot combine: a stream copy has nothing to ladder or split; a ladder is encoded in one run.</summary>
    public static EncodeInput.Problem? Problem(EncodeSettings settings)
    {
        var copy = settings.VideoCodec == VideoCodecs.Copy;
        if (copy && settings.Package is not null) return new("package", "cannot be made with video_codec copy: a ladder encodes each height");
        if (copy && settings.SplitSeconds is not null) return new("split_seconds", "cannot be used with video_codec copy: there is nothing to encode in chunks");
        if (settings.SplitSeconds is not null && settings.Package is not null) return new("split_seconds", "cannot be used with package: a ladder is encoded in one run");
        return null;
    }

    private static IReadOnlyList<int>? Heights(JsonElement rungs)
    {
        if (rungs.ValueKind != JsonValueKind.Array || rungs.GetArrayLength() is 0 or > MaxLadderRungs) return null;
        var heights = new List<int>();
        foreach (var rung in rungs.EnumerateArray())
        {
            if (rung.ValueKind != JsonValueKind.Number || !rung.TryGetInt32(out var height) || height % 2 != 0
                || height < EncodeInput.MinMaxHeight || height > EncodeInput.MaxMaxHeight) return null;
            if (!heights.Contains(height)) heights.Add(height);
        }
        return heights.OrderDescending().ToList();
    }

    private static int? WholeNumber(JsonElement item, string name, int min, int max, int absent)
    {
        if (item.ValueKind != JsonValueKind.Object || Property(item, name) is not { } value) return absent;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max ? number : null;
    }

    private static string? Text(JsonElement item, string name) =>
        item.ValueKind == JsonValueKind.Object && Property(item, name) is { ValueKind: JsonValueKind.String } value ? value.GetString()!.ToLowerInvariant() : null;

    /// <summary>A misspelt field ("segment_secs") is refused rather than silently ignored.</summary>
    private static bool OnlyKnown(JsonElement item, params string[] names) => item.EnumerateObject().All(property => names.Contains(property.Name));

    private static JsonElement? Property(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
