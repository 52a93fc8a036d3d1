using System.Xml.Linq;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tasks;

/// <summary>
/// A package task (<see cref="TaskKinds.Package"/>): the job's input as an adaptive-streaming ladder in one ffmpeg run
/// (<see cref="PackageArguments"/>), written into the folder "package" of the work folder, which is the result.
/// <para>
/// HLS: master.m3u8; per rendition a folder named by its height ("720p/") with index.m3u8, its init segment
/// (init_N.mp4, N its place in the variant list) and seg_00000.m4s…; the shared audio likewise in "audio/".
/// DASH: manifest.mpd, and beside it init-N.mp4 and seg-N-00001.m4s… per representation (N from 0: the rungs
/// highest first, then the audio).
/// </para>
/// After ffmpeg, the master playlist is mended (<see cref="HlsMaster"/>) and the result checked cheaply: the manifest
/// names every rendition, and every rendition's playlist is complete.
/// </summary>
public sealed class PackageWork : ITaskWork
{
    /// <summary>The result's folder, inside the work folder.</summary>
    public const string FolderName = "package";

    /// <summary>The CODECS name of the shared audio: AAC-LC, the profile ffmpeg's aac encoder writes.</summary>
    public const string AacCodec = "mp4a.40.2";

    public async Task<TaskWorkResult> RunAsync(TaskContext context, CancellationToken stop)
    {
        var spec = context.Task.Package ?? throw new ArgumentException("A package task carries its package spec.", nameof(context));
        var settings = context.Job.Settings;
        if (context.Input is not { Width: { } width, Height: { } height } input)
            return TaskWorkResult.Fail($"The input '{context.Job.FileName}' has no video stream of a known size.");
        if (PackageArguments.HdrProblem(settings, input) is { } problem) return TaskWorkResult.Fail($"The package cannot be made as asked: {problem}.");
        var folder = Path.Combine(context.WorkFolder, FolderName);
        // The HLS muxer reads '%' in its output names as a pattern (%v, %05d).
        if (spec.Format == PackageFormats.Hls && folder.Contains('%'))
            return TaskWorkResult.Fail($"The work folder '{context.WorkFolder}' has a '%' in its path, which ffmpeg's HLS muxer takes for a pattern.");
        Directory.CreateDirectory(folder);

        var rungs = PackageArguments.Rungs(spec, width, height, settings);
        // The track a plain encode would keep first (the job's audio languages decide), encoded once for every rendition.
        var audio = EncodeArguments.Kept(settings, input).FirstOrDefault(stream => stream.Kind == "audio")?.Index;
        var arguments = PackageArguments.Build(context.InputPath, folder, spec, rungs, settings, input, audio);
        var commandLine = context.Ffmpeg.CommandLine(arguments);
        var outcome = await context.Ffmpeg.EncodeAsync(arguments, input.DurationSeconds, context.Progress, stop);
        if (FfmpegEnding.Of(outcome, context.StallTimeout, commandLine) is { } ended) return ended;

        var missing = spec.Format == PackageFormats.Dash ? CheckDash(folder, rungs, audio is not null) : MendAndCheckHls(folder, rungs, audio is not null);
        if (missing is not null)
            return FfmpegEnding.Fail($"ffmpeg ended well but the package is incomplete: {missing}", outcome.LogTail, commandLine);
        return new TaskWorkResult.Done(folder, new FinishReport("", InputBytes: new FileInfo(context.InputPath).Length, OutputBytes: FolderBytes(folder),
            Result: JobResults.Encoded, CommandLine: commandLine, Codec: VideoCodecs.H264, Height: rungs[0].Height));
    }

    /// <summary>Mends master.m3u8 (<see cref="HlsMaster.Patch"/>), then checks it; null when every rung is listed whole, else what is not.</summary>
    private static string? MendAndCheckHls(string folder, IReadOnlyList<Rung> rungs, bool audio)
    {
        var masterPath = Path.Combine(folder, PackageFormats.Manifest(PackageFormats.Hls));
        if (!File.Exists(masterPath)) return "there is no master.m3u8";
        var master = File.ReadAllText(masterPath);
        var mended = HlsMaster.Patch(master, uri => InitOf(folder, uri) is { } init ? HlsMaster.AvcCodec(File.ReadAllBytes(init)) : null,
            audio ? AacCodec : null);
        if (mended != master) File.WriteAllText(masterPath, mended);

        var variants = HlsMaster.Variants(mended);
        foreach (var rung in rungs)
        {
            var uri = $"{rung.Name}/{PackageArguments.VariantPlaylist}";
            if (variants.FirstOrDefault(variant => variant.Uri == uri) is not { } variant) return $"master.m3u8 does not list {uri}";
            foreach (var attribute in new[] { "BANDWIDTH", "RESOLUTION", "CODECS" })
                if (!variant.Attributes.ContainsKey(attribute)) return $"master.m3u8 gives {uri} no {attribute}";
            if (Unfinished(folder, uri) is { } why) return why;
        }
        return audio ? Unfinished(folder, $"{PackageArguments.AudioName}/{PackageArguments.VariantPlaylist}") : null;
    }

    /// <summary>Why the media playlist at <paramref name="uri"/> is not a whole VOD playlist; null when it is.</summary>
    private static string? Unfinished(string folder, string uri)
    {
        var path = Path.Combine(folder, uri);
        if (!File.Exists(path)) return $"{uri} is missing";
        return File.ReadAllText(path).Contains("#EXT-X-ENDLIST", StringComparison.Ordinal) ? null : $"{uri} has no end";
    }

    /// <summary>The init segment of the variant playlist at <paramref name="uri"/>, when it names one that exists.</summary>
    private static string? InitOf(string folder, string uri)
    {
        var playlist = Path.Combine(folder, uri);
        if (!File.Exists(playlist) || HlsMaster.InitSegment(File.ReadAllText(playlist)) is not { } init) return null;
        var path = Path.Combine(Path.GetDirectoryName(playlist)!, init);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Whether manifest.mpd has a video representation of every rung's size and, with audio, an audio one; null when it has.</summary>
    private static string? CheckDash(string folder, IReadOnlyList<Rung> rungs, bool audio)
    {
        var path = Path.Combine(folder, PackageFormats.Manifest(PackageFormats.Dash));
        if (!File.Exists(path)) return "there is no manifest.mpd";
        var representations = XDocument.Load(path).Descendants().Where(element => element.Name.LocalName == "Representation").ToList();
        foreach (var rung in rungs)
            if (!representations.Any(representation => (string?)representation.Attribute("width") == rung.Width.ToString()
                    && (string?)representation.Attribute("height") == rung.Height.ToString()))
                return $"manifest.mpd has no {rung.Width}x{rung.Height} representation";
        return audio && !representations.Any(representation => ((string?)representation.Attribute("mimeType"))?.StartsWith("audio/") == true)
            ? "manifest.mpd has no audio representation" : null;
    }

    private static long FolderBytes(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(file => file.Length);
}
