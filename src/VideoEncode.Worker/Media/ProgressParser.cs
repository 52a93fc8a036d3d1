using System.Globalization;

namespace VideoEncode.Worker.Media;

/// <summary>Where an encode stands, from ffmpeg's -progress output and the input's duration.</summary>
public sealed record EncodeProgress(TimeSpan Position, double? Percent, double? Fps, double? Speed, TimeSpan? Eta)
{
    /// <summary>Frames encoded so far.</summary>
    public long Frames { get; init; }
}

/// <summary>
/// Turns ffmpeg's "-progress" key=value lines into <see cref="EncodeProgress"/>: one update per
/// block, which ffmpeg ends with "progress=continue" or "progress=end".
/// </summary>
public sealed class ProgressParser(double? inputSeconds)
{
    private static readonly TimeSpan MaxEta = TimeSpan.FromDays(365);

    private TimeSpan position;
    private long frames;
    private double? fps, speed;

    public EncodeProgress? Read(string line)
    {
        var equals = line.IndexOf('=');
        if (equals <= 0) return null;
        var key = line[..equals].Trim();
        var value = line[(equals + 1)..].Trim();
        switch (key)
        {
            case "out_time_us" or "out_time_ms" when long.TryParse(value, CultureInfo.InvariantCulture, out var micros) && micros >= 0:
                // Despite its name, out_time_ms is in microseconds too.
                position = TimeSpan.FromMicroseconds(micros);
                break;
            case "frame" when long.TryParse(value, CultureInfo.InvariantCulture, out var count) && count >= 0:
                frames = count;
                break;
            case "fps" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f):
                fps = f;
                break;
            case "speed" when double.TryParse(value.TrimEnd('x'), NumberStyles.Float, CultureInfo.InvariantCulture, out var s):
                speed = s;
                break;
            case "progress":
                return Snapshot(finished: value == "end");
        }
        return null;
    }

    private EncodeProgress Snapshot(bool finished)
    {
        double? percent = null;
        TimeSpan? eta = null;
        if (inputSeconds is > 0 and var total)
        {
            percent = finished ? 100 : Math.Clamp(position.TotalSeconds / total * 100, 0, 100);
            // A speed near zero (ffmpeg prints "0.00012x" while it starts) would make an ETA of ages.
            if (speed is > 0 and var s && Math.Max(0, (total - position.TotalSeconds) / s) is var left && left < MaxEta.TotalSeconds)
                eta = TimeSpan.FromSeconds(left);
        }
        return new EncodeProgress(position, percent, fps, speed, finished ? TimeSpan.Zero : eta) { Frames = frames };
    }
}
