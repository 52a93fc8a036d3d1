using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>A named set of encode settings, as GET /api/profiles shows it; a built-in one has no times.</summary>
public sealed record Profile(string Name, bool Builtin, EncodeSettings Settings, long? UpdatedAt = null, string? UpdatedBy = null);

/// <summary>
/// GET /api/encode-options: what a job or profile may choose, from <see cref="EncoderCatalog"/>, so the
/// pages and scripts read the choices instead of repeating them. The defaults are those a job naming more
/// than crf and preset starts from (every track kept).
/// </summary>
public sealed record EncodeOptions(IReadOnlyList<string> VideoCodecs, IReadOnlyList<EncoderInfo> Encoders,
    IReadOnlyDictionary<string, ContainerHolds> Containers, IReadOnlyList<string> Audio, IReadOnlyList<string> Subtitles, IReadOnlyList<string> Tonemap,
    EncodeSettings Defaults)
{
    public static EncodeOptions Current { get; } = new(Contracts.VideoCodecs.All, EncoderCatalog.Encoders,
        Contracts.Containers.All.ToDictionary(container => container,
            container => new ContainerHolds(EncoderCatalog.ContainerVideo[container], EncoderCatalog.ContainerAudio[container])),
        AudioCodecs.All, SubtitleModes.All, ToneMaps.All, EncodeSettings.Defaults);
}

/// <summary>The video and audio choices a container holds.</summary>
public sealed record ContainerHolds(IReadOnlyList<string> Video, IReadOnlyList<string> Audio);
