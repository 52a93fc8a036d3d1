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

    /// <summary>
    /// A tiny HDR10 clip (128x72, 1 s, HEVC 10-bit, PQ on BT.2020) made with x265's hdr10 options: its
    /// mastering display (P3-like primaries, 1000 and 0.0001 cd/m²) and content light level (1000,400) are in the stream.
    /// </summary>
    public static Task MakeHdr10ClipAsync(string path) => GenerateAsync([
        "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=128x72:rate=10:duration=1",
        "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast",
        "-x265-params", "log-level=error:hdr10=1:repeat-headers=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:" +
                        "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
        "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", path]);

    /// <summary>
    /// A tiny MKV with everything a library file has (128x72, 2 s): two audio tracks (eng "English" default,
    /// jpn "Japanese"), two SubRip tracks (eng; jpn forced), three chapters, a title ("Many tracks") and an
    /// attached font (font/ttf).
    /// </summary>
    public static async Task MakeManyTracksClipAsync(string path)
    {
        var folder = Directory.CreateTempSubdirectory("videoencode-tracks-").FullName;
        try
        {
            string Write(string name, string text)
            {
                var file = Path.Combine(folder, name);
                File.WriteAllText(file, text);
                return file;
            }
            var english = Write("eng.srt", "1\n00:00:00,000 --> 00:00:01,000\nHello\n");
            var japanese = Write("jpn.srt", "1\n00:00:00,500 --> 00:00:01,500\nKonnichiwa\n");
            var chapters = Write("chapters.txt", ";FFMETADATA1\ntitle=Many tracks\n" + string.Concat(new[] { (0, 700, "One"), (700, 1400, "Two"), (1400, 2000, "Three") }
                .Select(c => $"[CHAPTER]\nTIMEBASE=1/1000\nSTART={c.Item1}\nEND={c.Item2}\ntitle={c.Item3}\n")));
            // Any bytes do for a font: players read it, ffmpeg only carries it.
            var font = Write("font.ttf", "not really a font, but carried as one");
            await GenerateAsync([
                "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=128x72:rate=10:duration=2",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-f", "lavfi", "-i", "sine=frequency=660:duration=2",
                "-i", english, "-i", japanese, "-i", chapters, "-attach", font,
                "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3", "-map", "4", "-map_metadata", "5", "-map_chapters", "5",
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt",
                "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English", "-metadata:s:a:1", "language=jpn", "-metadata:s:a:1", "title=Japanese",
                "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=jpn",
                "-disposition:a:0", "default", "-disposition:a:1", "0", "-disposition:s:0", "0", "-disposition:s:1", "forced",
                "-metadata:s:t", "mimetype=font/ttf", "-metadata:s:t", "filename=font.ttf", path]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
