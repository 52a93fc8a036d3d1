using System.Text;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Real encodes, straight through <see cref="EncodeArguments"/> and <see cref="Ffmpeg"/>, of one small clip
/// with a video, an audio and a subtitle stream: each software encoder into each container it fits, its
/// 10-bit form, and the audio, subtitle and size choices, each output checked with ffprobe. At each
/// encoder's fastest setting, so the whole set stays quick.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EncoderMatrixTests(EncoderMatrixTests.Clip clip) : IClassFixture<EncoderMatrixTests.Clip>
{
    private const int ClipHeight = 240;

    /// <summary>The input, made once for the class: 1.5 s of 320x240 H.264, AAC and an SRT subtitle track, in Matroska.</summary>
    public sealed class Clip : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("videoencode-matrix-").FullName;
        public string Input => Path.Combine(Folder, "input.mkv");

        public async Task InitializeAsync()
        {
            var subtitles = Path.Combine(Folder, "subtitles.srt");
            await File.WriteAllTextAsync(subtitles, "1\n00:00:00,000 --> 00:00:01,000\nHello\n");
            await TestMedia.GenerateAsync([
                "-v", "error", "-y",
                "-f", "lavfi", "-i", $"testsrc2=duration=1.5:size=320x{ClipHeight}:rate=15",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5", "-i", subtitles,
                "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt", Input]);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }

    /// <summary>Each encoder's fastest preset and a quality in the middle of its scale.</summary>
    private static (string Preset, string Crf) Fastest(string encoder) => encoder switch
    {
        "libsvtav1" => ("12", "45"),
        "libaom-av1" => ("8", "45"),
        "libvpx-vp9" => ("8", "40"),
        _ => ("ultrafast", "30"),
    };

    /// <summary>encoder, container, bit depth, max height, audio, subtitles.</summary>
    public static TheoryData<string, string, int, int?, string, string> Encodes()
    {
        var data = new TheoryData<string, string, int, int?, string, string>();
        foreach (var encoder in EncoderCatalog.Software.Where(encoder => encoder.Name != "libaom-av1"))
        {
            foreach (var container in Containers.All.Where(container => EncoderCatalog.ContainerVideo[container].Contains(encoder.Codec)))
                data.Add(encoder.Name, container, 8, null, container == Containers.Webm ? AudioCodecs.Opus : AudioCodecs.Aac, SubtitleModes.Drop);
            if (encoder.BitDepths.Contains(10)) data.Add(encoder.Name, Containers.Mkv, 10, null, AudioCodecs.Aac, SubtitleModes.Drop);
        }
        // libaom-av1 is slow even at its fastest: once.
        data.Add("libaom-av1", Containers.Mkv, 8, null, AudioCodecs.Opus, SubtitleModes.Drop);
        // Scaled down, Opus in MP4, subtitles as MP4 timed text.
        data.Add(EncoderCatalog.Libx264, Containers.Mp4, 8, 180, AudioCodecs.Opus, SubtitleModes.Copy);
        // Never scaled up; audio and subtitles kept as they are.
        data.Add("libx265", Containers.Mkv, 8, 480, AudioCodecs.Copy, SubtitleModes.Copy);
        // Subtitles as WebVTT.
        data.Add("libvpx-vp9", Containers.Webm, 8, null, AudioCodecs.Opus, SubtitleModes.Copy);
        return data;
    }

    [Theory]
    [MemberData(nameof(Encodes))]
    public async Task ASoftwareEncodeWritesWhatItsSettingsAskFor(string name, string container, int depth, int? maxHeight, string audio, string subtitles)
    {
        var encoder = EncoderCatalog.Find(name)!;
        var (preset, crf) = Fastest(name);
        var settings = new EncodeSettings
        {
            VideoCodec = encoder.Codec, Encoder = name, Crf = crf, Preset = preset, BitDepth = depth, MaxHeight = maxHeight,
            Audio = audio, Container = container, Subtitles = subtitles,
        };
        var output = Path.Combine(clip.Folder, $"{name} {container} {depth} {maxHeight} {audio} {subtitles}.partial");
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));

        var outcome = await ffmpeg.EncodeAsync(EncodeArguments.Build(clip.Input, output, settings, await ffmpeg.ProbeAsync(clip.Input, CancellationToken.None)), 1.5, _ => { }, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.LogTail);
        var streams = await StreamsAsync(output);
        var video = Assert.Single(streams, stream => stream.Type == "video");
        Assert.Equal(encoder.Codec, video.Codec);
        Assert.Equal(depth == 10 ? "yuv420p10le" : "yuv420p", video.PixelFormat);
        Assert.Equal(Math.Min(ClipHeight, maxHeight ?? ClipHeight), video.Height);
        Assert.Equal(audio == AudioCodecs.Copy ? "aac" : audio, Assert.Single(streams, stream => stream.Type == "audio").Codec);
        var subtitleCodec = streams.SingleOrDefault(stream => stream.Type == "subtitle")?.Codec;
        Assert.Equal(subtitles == SubtitleModes.Drop ? null : container switch
        {
            Containers.Mp4 => "mov_text",
            Containers.Webm => "webvtt",
            _ => "subrip",
        }, subtitleCodec);
        Assert.Equal(container, await ContainerAsync(output));
    }

    /// <summary>MP4's own timed text, which the Matroska muxer refuses as it is, goes into Matroska as SubRip.</summary>
    [Fact]
    public async Task MovTextSubtitlesCopiedIntoMatroskaBecomeSubRip()
    {
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));
        var mp4 = Path.Combine(clip.Folder, "timed-text.mp4");
        var toMp4 = new EncodeSettings { Crf = "30", Preset = "ultrafast", Subtitles = SubtitleModes.Copy };
        Assert.True((await ffmpeg.EncodeAsync(EncodeArguments.Build(clip.Input, mp4, toMp4, await ffmpeg.ProbeAsync(clip.Input, CancellationToken.None)), 1.5, _ => { }, CancellationToken.None)).Succeeded);
        var remux = new EncodeSettings
        {
            VideoCodec = VideoCodecs.Copy, Encoder = null, Audio = AudioCodecs.Copy, Container = Containers.Mkv, Subtitles = SubtitleModes.Copy,
        };
        var output = Path.Combine(clip.Folder, "timed-text.mkv.partial");

        var outcome = await ffmpeg.EncodeAsync(EncodeArguments.Build(mp4, output, remux, await ffmpeg.ProbeAsync(mp4, CancellationToken.None)), 1.5, _ => { }, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.LogTail);
        Assert.Equal("subrip", Assert.Single(await StreamsAsync(output), stream => stream.Type == "subtitle").Codec);
    }

    /// <summary>An input of an odd number of lines under a higher max_height is made even, which 4:2:0 needs, not refused by the encoder.</summary>
    [Fact]
    public async Task AnOddHeightUnderTheCapIsMadeEven()
    {
        var odd = Path.Combine(clip.Folder, "odd.mkv");
        await TestMedia.GenerateAsync(["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=322x241:rate=25:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-y", odd]);
        var settings = new EncodeSettings { Crf = "30", Preset = "ultrafast", MaxHeight = 720 };
        var output = Path.Combine(clip.Folder, "odd.mp4.partial");

        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));
        var outcome = await ffmpeg.EncodeAsync(EncodeArguments.Build(odd, output, settings, await ffmpeg.ProbeAsync(odd, CancellationToken.None)), 1, _ => { },
            CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.LogTail);
        Assert.Equal(240, Assert.Single(await StreamsAsync(output), stream => stream.Type == "video").Height);
    }

    private sealed record Stream(string Type, string Codec, string? PixelFormat, int? Height);

    private static async Task<List<Stream>> StreamsAsync(string path)
    {
        using var json = await ProbeJsonAsync(path, "stream=codec_type,codec_name,pix_fmt,height");
        return json.RootElement.GetProperty("streams").EnumerateArray().Select(stream => new Stream(
            stream.GetProperty("codec_type").GetString()!, stream.GetProperty("codec_name").GetString()!,
            stream.TryGetProperty("pix_fmt", out var format) ? format.GetString() : null,
            stream.TryGetProperty("height", out var height) ? height.GetInt32() : null)).ToList();
    }

    /// <summary>
    /// The container, from the file's first bytes: MP4's ftyp box, or the EBML doctype that tells WebM from
    /// Matroska (ffprobe names one demuxer for both).
    /// </summary>
    private static async Task<string> ContainerAsync(string path)
    {
        var head = new byte[64];
        await using (var file = File.OpenRead(path)) await file.ReadExactlyAsync(head);
        var text = Encoding.ASCII.GetString(head);
        return text.Contains("ftyp") ? Containers.Mp4 : text.Contains("webm") ? Containers.Webm : text.Contains("matroska") ? Containers.Mkv : "unknown";
    }

    private static async Task<JsonDocument> ProbeJsonAsync(string path, string entries)
    {
        var (exit, stdout, stderr) = await TestMedia.RunAsync("ffprobe", ["-v", "error", "-show_entries", entries, "-of", "json", path]);
        Assert.True(exit == 0, stderr);
        return JsonDocument.Parse(stdout);
    }
}
