using System.Collections;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker;

/// <summary>
/// The worker's settings, from the command line first and VIDEOENCODE_* environment variables
/// second (<see cref="WorkerCommand"/> reads them).
/// </summary>
public sealed record WorkerSettings
{
    public Uri Server { get; init; } = new("http://127.0.0.1:5000");
    public string ApiKey { get; init; } = "";

    /// <summary>The key came from --api-key, where every user of the machine can read it in the process list.</summary>
    public bool ApiKeyOnCommandLine { get; init; }
    /// <summary>The shared folder job file names are relative to; empty for a worker that takes only store jobs.</summary>
    public string Input { get; init; } = "";
    public string Output { get; init; } = "";

    /// <summary>Where store jobs' inputs are downloaded and their results written before upload (made private to this user).</summary>
    public string Scratch { get; init; } = DefaultScratch(Environment.GetEnvironmentVariables());

    /// <summary>Bytes per second a download or upload may use; null: as fast as the network allows.</summary>
    public double? TransferLimit { get; init; }

    /// <summary>A worker with --input and --output runs shared-folder jobs as well as store jobs.</summary>
    public bool HasSharedFolders => Input.Length > 0;

    /// <summary>The jobs this worker's claims ask for (<see cref="Contracts.MediaKinds"/>).</summary>
    public string Media => HasSharedFolders ? Contracts.MediaKinds.Any : Contracts.MediaKinds.Store;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
    public int Concurrency { get; init; } = 1;
    public bool Once { get; init; }
    public string FfmpegPath { get; init; } = "ffmpeg";
    public string FfprobePath { get; init; } = "ffprobe";
    public string Name { get; init; } = Environment.MachineName;
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>The encoders --capabilities declared (with "copy"), which replace detection; null: detect them at start.</summary>
    public IReadOnlyList<string>? DeclaredEncoders { get; init; }

    /// <summary>The encoders this worker's claims list (with "copy"): declared, or found at start (<see cref="Media.EncoderDetection"/>).</summary>
    public IReadOnlyList<string> Encoders { get; init; } = [];

    /// <summary>
    /// The settings of a command line (<see cref="WorkerCommand"/>), with VIDEOENCODE_* variables from
    /// <paramref name="environment"/> for what it leaves out; or a one-line problem; help is true when --help was asked for.
    /// </summary>
    public static (WorkerSettings? Settings, string? Problem, bool Help) Parse(IReadOnlyList<string> args, IDictionary environment)
    {
        var command = new WorkerCommand();
        var parsed = command.Parse(args);
        if (WorkerCommand.AsksForHelp(parsed)) return (null, null, true);
        var (settings, problem) = command.Settings(parsed, environment);
        return (settings, problem, false);
    }

    /// <summary>
    /// The scratch folder of a worker given no --scratch: one per user, never a folder every user of the machine
    /// shares. On Linux and macOS "videoencode-worker/scratch" in the user's cache folder ($XDG_CACHE_HOME, else
    /// ~/.cache), on a disk rather than in memory, as videos are large; with neither, "/tmp/videoencode-scratch-{uid}".
    /// On Windows "videoencode-scratch" in the user's own temp folder.
    /// </summary>
    public static string DefaultScratch(IDictionary environment)
    {
        if (OperatingSystem.IsWindows()) return Path.Combine(Path.GetTempPath(), "videoencode-scratch");
        if (environment["XDG_CACHE_HOME"] is string { Length: > 0 } cache && Path.IsPathFullyQualified(cache))
            return Path.Combine(cache, "videoencode-worker", "scratch");
        if (environment["HOME"] is string { Length: > 0 } home && Path.IsPathFullyQualified(home))
            return Path.Combine(home, ".cache", "videoencode-worker", "scratch");
        return Path.Combine("/tmp", $"videoencode-scratch-{PrivateFolder.UserId}");
    }

    /// <summary>
    /// Why the scratch folder cannot lie where it does: equal to, inside, or above the input or output folder,
    /// where its clean-up would delete videos and the shared folder's jobs could reach into it; null when apart.
    /// Links are resolved first, so a link cannot hide an overlap.
    /// </summary>
    public string? ScratchOverlap()
    {
        if (!HasSharedFolders) return null;
        var scratch = MediaPaths.RealPath(Scratch);
        foreach (var (option, folder) in new[] { ("--input", Input), ("--output", Output) })
        {
            var real = MediaPaths.RealPath(folder);
            if (Overlaps(scratch, real))
                return $"the scratch folder '{Scratch}' overlaps the {option.TrimStart('-')} folder '{folder}' (the same folder, or one inside " +
                       $"the other); pass a --scratch of its own";
        }
        return null;

        static bool Overlaps(string a, string b) => a == b || a.StartsWith(WithSeparator(b), StringComparison.Ordinal) || b.StartsWith(WithSeparator(a), StringComparison.Ordinal);
        static string WithSeparator(string path) => Path.EndsInDirectorySeparator(path) ? path : path + Path.DirectorySeparatorChar;
    }

    /// <summary>The key in the file, without the line break an editor or echo leaves; or why there is none.</summary>
    internal static (string? Key, string? Problem) ReadKeyFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read the API key file '{path}': {e.Message}");
        }
        var key = text.Trim();
        return key.Length == 0 ? (null, $"the API key file '{path}' is empty") : (key, null);
    }
}
