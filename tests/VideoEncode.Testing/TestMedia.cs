using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VideoEncode.Testing;

/// <summary>
/// Test clips made with ffmpeg's lavfi sources; nothing is committed. Each clip is made once per
/// machine and kept in a cache keyed by its ffmpeg arguments, then copied to where a test asks for it.
/// </summary>
public static class TestMedia
{
    /// <summary>The made clips, by a hash of what made them; kept between runs, since the same arguments make the same clip.</summary>
    private static readonly string Cache = Path.Combine(Path.GetTempPath(), "videoencode-tests", "clips");

    /// <summary>A small H.264 clip (with a 440 Hz tone unless told otherwise) of the given length.</summary>
    public static Task MakeClipAsync(string path, double seconds, string size = "160x120", int rate = 15, bool audio = true)
    {
        var duration = seconds.ToString(CultureInfo.InvariantCulture);
        List<string> args = ["-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc=duration={duration}:size={size}:rate={rate}"];
        if (audio) args.AddRange(["-f", "lavfi", "-i", $"sine=frequency=440:duration={duration}"]);
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast"]);
        if (audio) args.AddRange(["-c:a", "aac", "-shortest"]);
        args.Add(path);
        return GenerateAsync(args);
    }

    /// <summary>
    /// Runs ffmpeg with <paramref name="arguments"/> (lavfi sources, or encodes of made clips), whose last one is the file to make, through the
    /// cache: the key hashes every argument, an input file by its contents, and the output by its
    /// extension alone (it picks the container). A clip is written under a name of its own and renamed
    /// into the cache when complete, so test processes making the same clip at once never read half of
    /// one. The test gets a copy (a test may change or delete its input), dated now as if just made.
    /// </summary>
    public static async Task GenerateAsync(IReadOnlyList<string> arguments)
    {
        var output = arguments[^1];
        var extension = Path.GetExtension(output);
        var key = new StringBuilder();
        foreach (var argument in arguments.SkipLast(1))
            key.Append(File.Exists(argument) ? "file:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(argument))) : argument).Append('\0');
        var cached = Path.Combine(Cache, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.Append(extension).ToString())))[..32] + extension);
        if (!File.Exists(cached))
        {
            Directory.CreateDirectory(Cache);
            var making = Path.Combine(Cache, $"{Path.GetFileNameWithoutExtension(cached)}-{Guid.NewGuid():N}.partial{extension}");
            var (exit, _, stderr) = await RunAsync("ffmpeg", [.. arguments.SkipLast(1), making]);
            if (exit != 0)
            {
                File.Delete(making);
                throw new InvalidOperationException($"ffmpeg could not make {output}: {stderr}");
            }
            File.Move(making, cached, overwrite: true);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.Copy(cached, output, overwrite: true);
        File.SetLastWriteTimeUtc(output, DateTime.UtcNow);
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
