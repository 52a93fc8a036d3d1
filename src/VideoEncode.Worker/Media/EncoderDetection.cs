using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>An encoder ffmpeg lists that this worker does not use, and why.</summary>
public sealed record RejectedEncoder(string Name, string Reason);

/// <summary>What a worker found at start: the encoders its claims list (with "copy"), and the hardware ones it left out.</summary>
public sealed record DetectedEncoders(IReadOnlyList<string> Encoders, IReadOnlyList<RejectedEncoder> Rejected);

/// <summary>
/// Finds which of <see cref="EncoderCatalog.Encoders"/> this worker can run: those "ffmpeg -encoders"
/// lists, except that a hardware encoder (NVENC, QSV, VAAPI) is kept only when a one-second test
/// encode with it succeeds, since ffmpeg lists them whether or not there is a device to run them on.
/// The test encodes run at once, side by side, each bounded by the stall timeout; a worker whose
/// ffmpeg lists no hardware encoder runs none.
/// </summary>
public sealed class EncoderDetection(Ffmpeg ffmpeg)
{
    public async Task<(DetectedEncoders? Found, string? Problem)> DetectAsync(CancellationToken cancel)
    {
        var (listing, problem) = await ffmpeg.ListEncodersAsync(cancel);
        if (listing is null) return (null, problem);
        var listed = Listed(listing);
        var hardware = listed.Where(encoder => encoder.Hardware is not null).ToList();
        var failures = await Task.WhenAll(hardware.Select(encoder => ffmpeg.TestEncodeAsync(TestEncodeArguments(encoder), cancel)));
        var rejected = hardware.Zip(failures).Where(test => test.Second is not null)
            .Select(test => new RejectedEncoder(test.First.Name, test.Second!)).ToList();
        var usable = listed.Where(encoder => rejected.All(reject => reject.Name != encoder.Name)).Select(encoder => encoder.Name).ToList();
        if (usable.Count == 0)
            return (null, $"ffmpeg has none of the encoders jobs use ({string.Join(", ", EncoderCatalog.Software.Select(encoder => encoder.Name))}, " +
                          "or a hardware encoder that passes a test encode)");
        return (new DetectedEncoders([.. usable, ClaimRequest.CopyCapability], rejected), null);
    }

    /// <summary>
    /// The catalog's encoders among those an "ffmpeg -encoders" listing names. Each line after the
    /// "------" rule reads "flags name description", video encoders' flags starting with V.
    /// </summary>
    public static IReadOnlyList<EncoderInfo> Listed(string listing)
    {
        var names = listing.Split('\n').SkipWhile(line => !line.TrimStart().StartsWith("---", StringComparison.Ordinal)).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length >= 2 && words[0].StartsWith('V'))
            .Select(words => words[1]).ToHashSet(StringComparer.Ordinal);
        return EncoderCatalog.Encoders.Where(encoder => names.Contains(encoder.Name)).ToList();
    }

    /// <summary>
    /// One second of a small generated picture, encoded with <paramref name="encoder"/> and thrown away:
    /// frames go to VAAPI through hwupload on its render node, to QSV as NV12 (which it takes from memory).
    /// </summary>
    public static IReadOnlyList<string> TestEncodeArguments(EncoderInfo encoder)
    {
        List<string> arguments = ["-hide_banner", "-nostdin", "-v", "error"];
        if (encoder.Hardware == EncoderCatalog.Vaapi) arguments.AddRange(["-vaapi_device", EncodeArguments.VaapiDevice]);
        arguments.AddRange(["-f", "lavfi", "-i", "testsrc2=duration=1:size=320x240:rate=25"]);
        if (encoder.Hardware == EncoderCatalog.Vaapi) arguments.AddRange(["-vf", "format=nv12,hwupload"]);
        else if (encoder.Hardware == EncoderCatalog.Qsv) arguments.AddRange(["-pix_fmt", "nv12"]);
        arguments.AddRange(["-c:v", encoder.Name, "-f", "null", "-"]);
        return arguments;
    }
}
