using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Media;

/// <summary>
/// How an ffmpeg run ended: its exit code (null when we stopped it, or when it made no progress
/// for the stall timeout and was stopped: <see cref="Stalled"/>) and the tail of its stderr.
/// </summary>
public sealed record EncodeOutcome(int? ExitCode, string LogTail, bool Stalled = false)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// What ffprobe says about a file: its duration, its first video stream (with its colour and HDR
/// metadata) and every stream with its kind, language, title and flags, its chapters and title; or why
/// it could not read it, which includes not answering within the stall timeout (<see cref="TimedOut"/>).
/// </summary>
public sealed record ProbeResult(bool Readable, double? DurationSeconds, string? VideoCodec, string LogTail, bool TimedOut = false)
{
    /// <summary>The demuxer ffprobe chose, as it names it ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "hls").</summary>
    public string? FormatName { get; init; }

    /// <summary>The first video stream's frame size and pixel format (what the quality gate compares in).</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? PixelFormat { get; init; }

    /// <summary>The first video stream's colour description, in ffprobe's names ("bt2020", "smpte2084", "bt2020nc"); null when untagged.</summary>
    public string? ColorPrimaries { get; init; }
    public string? ColorTransfer { get; init; }
    public string? ColorSpace { get; init; }

    /// <summary>The first video stream carries a Dolby Vision configuration record.</summary>
    public bool DolbyVision { get; init; }

    /// <summary>HDR10's static metadata from the first frame; null when absent.</summary>
    public MasteringDisplay? MasteringDisplay { get; init; }

    /// <summary>HDR10's content light level as "MaxCLL,MaxFALL" in cd/m² ("1000,400"); null when absent.</summary>
    public string? ContentLightLevel { get; init; }

    /// <summary><see cref="HdrKinds"/> of the first video stream: Dolby Vision first, then its transfer (PQ is HDR10, HLG is HLG).</summary>
    public string Hdr => DolbyVision ? HdrKinds.DolbyVision : ColorTransfer switch
    {
        "smpte2084" => HdrKinds.Hdr10,
        "arib-std-b67" => HdrKinds.Hlg,
        _ => HdrKinds.None,
    };

    public int AudioStreams { get; init; }

    /// <summary>Each subtitle stream's codec as ffprobe names it ("subrip", "mov_text", "hdmv_pgs_subtitle").</summary>
    public IReadOnlyList<string> SubtitleCodecs { get; init; } = [];

    public int SubtitleStreams => SubtitleCodecs.Count;

    /// <summary>Every stream, in the file's order: what the encode maps one by one.</summary>
    public IReadOnlyList<ProbedStream> Streams { get; init; } = [];

    public int Chapters { get; init; }

    /// <summary>The global title tag, if any.</summary>
    public string? Title { get; init; }

    public int Attachments => Streams.Count(stream => stream.Kind == "attachment");
}

/// <summary>One video packet as ffprobe lists it: its presentation time in seconds (the file's own clock) and whether it is a keyframe.</summary>
public sealed record VideoPacket(double Pts, bool Key);

/// <summary>
/// A file's first video stream, packet by packet in the file's (decoding) order, with the file's start time (what
/// ffmpeg's -ss counts from) and how many packets had no time at all (<see cref="Untimed"/>; such a file cannot be cut by time).
/// </summary>
public sealed record PacketList(IReadOnlyList<VideoPacket> Packets, double StartTime, int Untimed);

/// <summary>
/// An HDR10 mastering display: the green, blue, red and white-point chromaticities (CIE 1931 x, y) and
/// the largest and smallest luminance in cd/m², written out the way each encoder takes them.
/// </summary>
public sealed record MasteringDisplay(decimal[] Values)
{
    /// <summary>x265's master-display: chromaticities in units of 0.00002, luminance in 0.0001 cd/m², as HEVC's SEI counts.</summary>
    public string X265 => Format(value => Math.Round(value * 50000).ToString(CultureInfo.InvariantCulture),
        value => Math.Round(value * 10000).ToString(CultureInfo.InvariantCulture));

    /// <summary>SVT-AV1's mastering-display: the same values as decimals.</summary>
    public string SvtAv1 => Format(value => value.ToString("0.0####", CultureInfo.InvariantCulture),
        value => value.ToString("0.0###", CultureInfo.InvariantCulture));

    private string Format(Func<decimal, string> chromaticity, Func<decimal, string> luminance)
    {
        var c = Values.Take(8).Select(chromaticity).ToArray();
        return $"G({c[0]},{c[1]})B({c[2]},{c[3]})R({c[4]},{c[5]})WP({c[6]},{c[7]})L({luminance(Values[8])},{luminance(Values[9])})";
    }
}

/// <summary>
/// One stream as ffprobe lists it: its index in the file, kind (ffprobe's codec_type: video, audio,
/// subtitle, attachment, data), codec, language and title tags, and default and forced flags.
/// </summary>
public sealed record ProbedStream(int Index, string Kind, string Codec, string? Language = null, string? Title = null, bool Default = false,
    bool Forced = false);

/// <summary>
/// The only code that starts ffmpeg and ffprobe. Arguments go through
/// <see cref="ProcessStartInfo.ArgumentList"/>, never a shell string, so any file name — spaces,
/// quotes, non-ASCII — reaches ffmpeg as exactly one argument. Progress is read from
/// "-progress pipe:1"; stderr is kept as a bounded tail for error reports. Nothing runs unbounded:
/// an encode that stops making progress, or an ffprobe (or version check) that does not answer,
/// is killed after <paramref name="stallTimeout"/> (a hung network share, a stuck decoder).
/// </summary>
public sealed class Ffmpeg(string ffmpegPath, string ffprobePath, TimeSpan stallTimeout)
{
    public const int LogTailChars = 4096;

    /// <summary>How long a killed ffmpeg is waited for before its run is reported over anyway.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On Linux ffmpeg and ffprobe run as "setsid setpriv --pdeathsig KILL ffmpeg …" (both exec in
    /// place, so the PID is ffmpeg's). setsid gives ffmpeg its own session, so a Ctrl-C in the
    /// worker's terminal reaches only the worker, which decides what happens (the first Ctrl-C lets
    /// encodes finish). --pdeathsig makes the kernel kill ffmpeg when the worker dies, even by
    /// kill -9, instead of leaving an orphan encoding on (ffmpeg ignores SIGPIPE, so a closed
    /// progress pipe would not stop it) or an ffprobe hanging on a dead share. Elsewhere they are
    /// started directly.
    /// </summary>
    private static readonly Lazy<string[]> Launcher = new(() =>
        OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid") && Succeeds("/usr/bin/setpriv", "--pdeathsig", "KILL", "true")
            ? ["/usr/bin/setsid", "/usr/bin/setpriv", "--pdeathsig", "KILL"]
            : []);

    public static IReadOnlyList<string> ProbeArguments(string path) =>
    [
        "-v", "error", "-show_entries",
        "format=format_name,duration:format_tags=title:stream=index,codec_type,codec_name,codec_tag_string,width,height,pix_fmt," +
        "color_primaries,color_transfer,color_space:stream_tags=language,title:stream_disposition=default,forced:" +
        "stream_side_data=side_data_type:chapter=id",
        "-of", "json", .. InputArguments(path),
    ];

    /// <summary>The first video frame of an HDR input, for the static metadata (mastering display, content light level) its stream header may lack.</summary>
    public static IReadOnlyList<string> FirstFrameArguments(string path) =>
        ["-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_frames", "-of", "json", .. InputArguments(path)];

    /// <summary>
    /// An input is a local file and nothing else: no network protocol, however a playlist or a
    /// name (a "file" called "http:…") asks for one; "file:" keeps the name from being read as a
    /// protocol at all.
    /// </summary>
    internal static string[] InputArguments(string path) => ["-protocol_whitelist", "file", "-i", "file:" + path];

    /// <summary>The encode <paramref name="arguments"/> describe as a person would type it, for the job's record (<see cref="CommandLineText"/>).</summary>
    public string CommandLine(IReadOnlyList<string> arguments) => CommandLineText.Render(ffmpegPath, arguments, FinishReport.MaxCommandLineChars);

    /// <summary>Checks that both programs start; null when fine. Which encoders ffmpeg has is <see cref="EncoderDetection"/>'s question.</summary>
    public async Task<string?> CheckInstalledAsync(CancellationToken cancel)
    {
        foreach (var path in new[] { ffprobePath, ffmpegPath })
            if (await RunShortAsync(path, ["-version"], cancel) is (null, var problem)) return problem;
        return null;
    }

    /// <summary>What "ffmpeg -encoders" prints, or why it could not be asked.</summary>
    public Task<(string? Listing, string? Problem)> ListEncodersAsync(CancellationToken cancel) =>
        RunShortAsync(ffmpegPath, ["-hide_banner", "-encoders"], cancel);

    /// <summary>
    /// Runs a short encode to its end (a capability test); null when it succeeded, else why not: its
    /// first error line, which names the cause ("Cannot load libcuda.so.1"), where the last says only
    /// that the encoder did not open.
    /// </summary>
    public async Task<string?> TestEncodeAsync(IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        var (exit, _, stderr, timedOut) = await RunToEndAsync(ffmpegPath, arguments, cancel);
        if (timedOut) return $"no answer within {stallTimeout.TotalSeconds:0.#} s";
        if (exit is null) return $"cannot run '{ffmpegPath}': {stderr}";
        return exit == 0 ? null : FirstLine(stderr) is { Length: > 0 } cause ? cause : $"ffmpeg ended with exit code {exit}";
    }

    /// <summary>A short command's output when it succeeded within the stall timeout, else what went wrong in one line.</summary>
    private async Task<(string? Stdout, string? Problem)> RunShortAsync(string path, IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        var (exit, stdout, stderr, timedOut) = await RunToEndAsync(path, arguments, cancel);
        if (timedOut) return (null, $"'{path}' did not answer within {stallTimeout.TotalSeconds:0.#} s");
        if (exit is null) return (null, $"cannot run '{path}': {stderr}");
        if (exit != 0) return (null, $"'{path}' failed: {LastLine(stderr)}");
        return (stdout, null);
    }

    public async Task<ProbeResult> ProbeAsync(string path, CancellationToken cancel)
    {
        var (exit, stdout, stderr, timedOut) = await RunToEndAsync(ffprobePath, ProbeArguments(path), cancel);
        if (exit != 0) return new ProbeResult(false, null, null, stderr, timedOut);
        ProbeResult result;
        try
        {
            result = Read(stdout, stderr);
        }
        catch (JsonException)
        {
            return new ProbeResult(false, null, null, stderr + "\nffprobe printed something that is not JSON.");
        }
        if (result.Hdr != HdrKinds.Hdr10 && result.Hdr != HdrKinds.DolbyVision) return result;
        // HDR10's static metadata travels in the first frame (an SEI of HEVC) more often than in the container.
        var frame = await RunToEndAsync(ffprobePath, FirstFrameArguments(path), cancel);
        if (frame.TimedOut) return new ProbeResult(false, null, null, frame.Stderr, TimedOut: true);
        try
        {
            return frame.Exit == 0 ? WithFrameMetadata(result, frame.Stdout) : result;
        }
        catch (JsonException)
        {
            return result;
        }
    }

    /// <summary>ffprobe's JSON (<see cref="ProbeArguments"/>) as a <see cref="ProbeResult"/>.</summary>
    internal static ProbeResult Read(string json, string stderr)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var hasFormat = root.TryGetProperty("format", out var format);
        double? duration = hasFormat
            && format.TryGetProperty("duration", out var d)
            && double.TryParse(d.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? seconds : null;
        var formatName = hasFormat && format.TryGetProperty("format_name", out var name) ? name.GetString() : null;
        var title = hasFormat && format.TryGetProperty("tags", out var tags) ? Text(tags, "title") : null;
        var result = new ProbeResult(true, duration, null, stderr)
        {
            FormatName = formatName, Title = title,
            Chapters = root.TryGetProperty("chapters", out var chapters) && chapters.ValueKind == JsonValueKind.Array ? chapters.GetArrayLength() : 0,
        };
        if (root.TryGetProperty("streams", out var streams))
            foreach (var stream in streams.EnumerateArray())
                result = Counted(result, stream);
        return result;
    }

    /// <summary>The mastering display and content light level of the first frame (<see cref="FirstFrameArguments"/>), in x265's notation.</summary>
    internal static ProbeResult WithFrameMetadata(ProbeResult probed, string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("frames", out var frames) || frames.GetArrayLength() == 0
            || !frames[0].TryGetProperty("side_data_list", out var sideData)) return probed;
        foreach (var item in sideData.EnumerateArray())
        {
            switch (Text(item, "side_data_type"))
            {
                case "Mastering display metadata":
                    decimal? Ratio(string field) => Text(item, field) is { } ratio && ratio.Split('/') is [var n, var dd]
                        && long.TryParse(n, out var numerator) && long.TryParse(dd, out var denominator) && denominator > 0
                        ? (decimal)numerator / denominator : null;
                    var values = new[] { "green_x", "green_y", "blue_x", "blue_y", "red_x", "red_y", "white_point_x", "white_point_y",
                        "max_luminance", "min_luminance" }.Select(Ratio).ToArray();
                    if (values.All(value => value is not null))
                        probed = probed with { MasteringDisplay = new MasteringDisplay([.. values.Select(value => value!.Value)]) };
                    break;
                case "Content light level metadata":
                    if (item.TryGetProperty("max_content", out var max) && max.TryGetInt32(out var maxCll)
                        && item.TryGetProperty("max_average", out var average) && average.TryGetInt32(out var maxFall))
                        probed = probed with { ContentLightLevel = $"{maxCll},{maxFall}" };
                    break;
            }
        }
        return probed;
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>One more stream in <paramref name="probed"/>: listed and counted by its kind; the first video stream is the one described.</summary>
    private static ProbeResult Counted(ProbeResult probed, JsonElement stream)
    {
        int? Number(string name) => stream.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : null;
        bool Flag(string name) => stream.TryGetProperty("disposition", out var disposition) && disposition.TryGetProperty(name, out var flag)
            && flag.TryGetInt32(out var set) && set == 1;
        var tags = stream.TryGetProperty("tags", out var found) ? found : default;
        var kind = Text(stream, "codec_type") ?? "unknown";
        var codec = Text(stream, "codec_name") ?? "unknown";
        probed = probed with
        {
            Streams = [.. probed.Streams, new ProbedStream(Number("index") ?? probed.Streams.Count, kind, codec,
                Text(tags, "language"), Text(tags, "title"), Flag("default"), Flag("forced"))],
        };
        return kind switch
        {
            "video" when probed.VideoCodec is null => probed with
            {
                VideoCodec = codec, Width = Number("width"), Height = Number("height"), PixelFormat = Text(stream, "pix_fmt"),
                ColorPrimaries = Known(Text(stream, "color_primaries")), ColorTransfer = Known(Text(stream, "color_transfer")),
                ColorSpace = Known(Text(stream, "color_space")),
                DolbyVision = Text(stream, "codec_tag_string") is "dvh1" or "dvhe" or "dav1"
                    || (stream.TryGetProperty("side_data_list", out var side) && side.EnumerateArray()
                        .Any(item => Text(item, "side_data_type")?.Contains("DOVI", StringComparison.OrdinalIgnoreCase) == true)),
            },
            "audio" => probed with { AudioStreams = probed.AudioStreams + 1 },
            "subtitle" => probed with { SubtitleCodecs = [.. probed.SubtitleCodecs, codec] },
            _ => probed,
        };
    }

    /// <summary>ffprobe says "unknown" for an untagged colour property: that is no value.</summary>
    private static string? Known(string? value) => value is null or "unknown" or "unspecified" ? null : value;

    /// <summary>
    /// Runs the encode, reporting progress as ffmpeg reports it. When <paramref name="cancel"/>
    /// fires, ffmpeg is killed and the outcome has no exit code. So it is when ffmpeg goes the stall
    /// timeout without progress, which means its position in the output or its frame count moved:
    /// a progress block that repeats the last numbers is output, not progress (and the frame count
    /// can move before the position does, while x264 fills its lookahead). Each stderr line also goes
    /// to <paramref name="onLogLine"/>, for a caller that reads more than the tail (the quality gate).
    /// </summary>
    public Task<EncodeOutcome> EncodeAsync(IReadOnlyList<string> arguments, double? inputSeconds,
        Action<EncodeProgress> onProgress, CancellationToken cancel, Action<string>? onLogLine = null)
    {
        var progress = new ProgressParser(inputSeconds);
        (TimeSpan Position, long Frames) furthest = default;
        return RunWatchedAsync(ffmpegPath, arguments, line =>
        {
            if (progress.Read(line) is not { } update) return false;
            var moved = update.Position > furthest.Position || update.Frames > furthest.Frames;
            if (moved) furthest = (update.Position, update.Frames);
            onProgress(update);
            return moved;
        }, cancel, onLogLine);
    }

    /// <summary>
    /// The first video stream's packets as ffprobe lists them (<see cref="PacketArguments"/>), in the file's order, and
    /// the file's start time; read as ffprobe prints them, so a long file is watched like an encode: each packet is
    /// progress (<paramref name="onPts"/> hears its time), and a listing that stops for the stall timeout is stopped.
    /// The listing is null when ffprobe did not end well: the outcome says how it ended.
    /// </summary>
    public async Task<(PacketList? Packets, EncodeOutcome Outcome)> ListVideoPacketsAsync(string path, Action<double> onPts, CancellationToken cancel)
    {
        var packets = new List<VideoPacket>();
        double? startTime = null;
        var untimed = 0;
        var outcome = await RunWatchedAsync(ffprobePath, PacketArguments(path), line =>
        {
            var read = ReadPacketLine(line);
            if (read.StartTime is { } start) startTime = start;
            if (read.Untimed) untimed++;
            if (read.Packet is not { } packet) return false;
            packets.Add(packet);
            onPts(packet.Pts);
            return true;
        }, cancel);
        return (outcome.Succeeded ? new PacketList(packets, startTime ?? 0, untimed) : null, outcome);
    }

    /// <summary>ffprobe's listing of the first video stream's packets (time and flags) and the file's start time, as CSV lines.</summary>
    public static IReadOnlyList<string> PacketArguments(string path) =>
        ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags:format=start_time", "-of", "csv", .. InputArguments(path)];

    /// <summary>
    /// One line of <see cref="PacketArguments"/>' listing: a packet ("packet,10.000000,K_"), the file's start time
    /// ("format,0.000000"; "N/A" is 0), or a packet without a time ("packet,N/A,__": untimed); nothing for any other line.
    /// </summary>
    internal static PacketLine ReadPacketLine(string line)
    {
        static double? Seconds(string text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;
        return line.Split(',') switch
        {
            ["packet", var pts, var flags, ..] => Seconds(pts) is { } time ? new PacketLine(new VideoPacket(time, flags.Contains('K')), null, false)
                : new PacketLine(null, null, Untimed: true),
            ["format", var start, ..] => new PacketLine(null, Seconds(start) ?? 0, false),
            _ => default,
        };
    }

    internal readonly record struct PacketLine(VideoPacket? Packet, double? StartTime, bool Untimed);

    /// <summary>
    /// Runs <paramref name="program"/> to its end, handing each stdout line to <paramref name="onOutputLine"/>, which says
    /// whether it showed progress; the run is stopped when none came for the stall timeout (<see cref="EncodeOutcome.Stalled"/>)
    /// or when <paramref name="cancel"/> fires (no exit code).
    /// </summary>
    private async Task<EncodeOutcome> RunWatchedAsync(string program, IReadOnlyList<string> arguments, Func<string, bool> onOutputLine,
        CancellationToken cancel, Action<string>? onLogLine = null)
    {
        using var process = await StartAsync(program, arguments);
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        watchdog.CancelAfter(stallTimeout);
        var tail = new LogTail(LogTailChars);
        var stderr = PumpLinesAsync(process.StandardError, line =>
        {
            tail.Append(line);
            onLogLine?.Invoke(line);
        });
        var stdout = PumpLinesAsync(process.StandardOutput, line =>
        {
            if (onOutputLine(line)) watchdog.CancelAfter(stallTimeout);
        });
        try
        {
            await process.WaitForExitAsync(watchdog.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            // A process stuck in the kernel (say, on a hard-mounted share that went away) may not die
            // at once, or at all: wait a while, then report the run over rather than hang the worker.
            using var reaped = new CancellationTokenSource(KillGrace);
            try
            {
                await process.WaitForExitAsync(reaped.Token);
                await Task.WhenAll(stdout, stderr).WaitAsync(reaped.Token);
            }
            catch (OperationCanceledException) when (reaped.IsCancellationRequested)
            {
                tail.Append($"({Path.GetFileName(program)} did not exit within {KillGrace.TotalSeconds:0} s of being killed; left behind)");
            }
            return new EncodeOutcome(null, tail.ToString(), Stalled: !cancel.IsCancellationRequested);
        }
        await Task.WhenAll(stdout, stderr);
        return new EncodeOutcome(process.ExitCode, tail.ToString(), Stalled: false);
    }

    /// <summary>Starts a program through the launcher when there is one, from the launcher thread (see <see cref="LauncherThread"/>).</summary>
    private static async Task<Process> StartAsync(string program, IReadOnlyList<string> arguments)
    {
        var launcher = Launcher.Value;
        return launcher.Length == 0
            ? Start(program, arguments)
            : await LauncherThread.StartAsync(() => Start(launcher[0], [.. launcher[1..], program, .. arguments]));
    }

    private static Process Start(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException($"'{program}' did not start.");
    }

    /// <summary>
    /// Runs a short command to its end, or kills it after the stall timeout (TimedOut); exit code
    /// null when the program could not be started at all or was killed.
    /// </summary>
    private async Task<(int? Exit, string Stdout, string Stderr, bool TimedOut)> RunToEndAsync(
        string program, IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        Process process;
        try { process = await StartAsync(program, arguments); }
        catch (Win32Exception e) { return (null, "", e.Message, false); }
        using (process)
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            limit.CancelAfter(stallTimeout);
            var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            try
            {
                await process.WaitForExitAsync(limit.Token);
                return (process.ExitCode, await stdout, Tail(await stderr, LogTailChars), false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                // Gone before this returns, as after a stalled encode: the caller may retry at once.
                using (var reaped = new CancellationTokenSource(KillGrace))
                {
                    try { await process.WaitForExitAsync(reaped.Token); }
                    catch (OperationCanceledException) { /* left behind; nothing more to do */ }
                }
                cancel.ThrowIfCancellationRequested();
                return (null, "", $"{Path.GetFileName(program)} did not answer within {stallTimeout.TotalSeconds:0.#} s and was stopped.", true);
            }
        }
    }

    private static bool Succeeds(string program, params string[] arguments)
    {
        try
        {
            using var process = Start(program, arguments);
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }

    private static async Task PumpLinesAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is { } line) onLine(line);
    }

    private static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";

    public static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    private static string Tail(string text, int chars) => text.Length <= chars ? text : text[^chars..];

    /// <summary>The last N characters of a stream of lines, without keeping the whole stream.</summary>
    private sealed class LogTail(int chars)
    {
        private readonly StringBuilder buffer = new();

        public void Append(string line)
        {
            lock (buffer)
            {
                buffer.Append(line).Append('\n');
                if (buffer.Length > 2 * chars) buffer.Remove(0, buffer.Length - chars);
            }
        }

        public override string ToString()
        {
            lock (buffer) return Tail(buffer.ToString(), chars);
        }
    }
}
