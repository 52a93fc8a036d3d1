using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VideoEncode.Testing;

/// <summary>Test clips made on the spot with ffmpeg's lavfi sources; nothing is committed.</summary>
public static class TestMedia
{
    /// <summary>A small H.264 clip (with a 440 Hz tone unless told otherwise) of the given length.</summary>
    public static async Task MakeClipAsync(string path, double seconds, string size = "160x120", int rate = 15, bool audio = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var duration = seconds.ToString(CultureInfo.InvariantCulture);
        List<string> args = ["-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc=duration={duration}:size={size}:rate={rate}"];
        if (audio) args.AddRange(["-f", "lavfi", "-i", $"sine=frequency=440:duration={duration}"]);
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast"]);
        if (audio) args.AddRange(["-c:a", "aac", "-shortest"]);
        args.Add(path);
        var (exit, _, stderr) = await RunAsync("ffmpeg", args);
        if (exit != 0) throw new InvalidOperationException($"ffmpeg could not make {path}: {stderr}");
    }

    /// <summary>What ffprobe says: the first video stream's codec and the container's duration.</summary>
    public static async Task<(string? VideoCodec, double Duration)> ProbeAsync(string path)
    {
        var (exit, stdout, stderr) = await RunAsync("ffprobe",
            ["-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name", "-of", "json", path]);
        if (exit != 0) throw new InvalidOperationException($"ffprobe could not read {path}: {stderr}");
        using var json = JsonDocument.Parse(stdout);
        var video = json.RootElement.GetProperty("streams").EnumerateArray()
            .FirstOrDefault(stream => stream.GetProperty("codec_type").GetString() == "video");
        var codec = video.ValueKind == JsonValueKind.Object ? video.GetProperty("codec_name").GetString() : null;
        var duration = double.Parse(json.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);
        return (codec, duration);
    }

    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
