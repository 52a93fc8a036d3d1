using System.Collections;
using System.Globalization;

namespace VideoEncode.Worker;

/// <summary>
/// The worker's settings, from the command line first and VIDEOENCODE_* environment variables
/// second. Parsing is strict: an unknown option or a bad value is an error, not a surprise later.
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

    /// <summary>Where store jobs' inputs are downloaded and their results written before upload.</summary>
    public string Scratch { get; init; } = Path.Combine(Path.GetTempPath(), "videoencode-scratch");

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

    public const string Usage = """
        VideoEncode worker: claims encode jobs from a VideoEncode host and runs ffmpeg on them.

        Usage: VideoEncode.Worker --api-key-file FILE [--input DIR --output DIR] [options]

        With --input and --output the worker runs jobs on files in that shared folder and jobs whose
        video was uploaded to the host; without them, only uploaded ones (it needs nothing but the
        host's URL and a key: it downloads each input and uploads each result).

          --server URL          the host (default http://127.0.0.1:5000)      env VIDEOENCODE_SERVER
          --api-key-file FILE   read the host's API key from FILE (required,  env VIDEOENCODE_APIKEY
                                unless VIDEOENCODE_APIKEY holds the key)
          --api-key KEY         the key itself; avoid: other users see it in the process list
          --input DIR           folder that job file names are relative to    env VIDEOENCODE_INPUT
          --output DIR          folder the .mp4 results are written under     env VIDEOENCODE_OUTPUT
          --scratch DIR         where uploaded jobs are downloaded and        env VIDEOENCODE_SCRATCH
                                encoded (default: videoencode-scratch in the temp folder);
                                jobs larger than its free space are left to other workers
          --transfer-limit MBS  cap downloads and uploads at MBS megabytes per second
          --poll-interval SEC   pause between claims if the host cannot wait for work (default 5)
          --concurrency N       encodes to run at once (default 1)
          --once                work until the queue is empty, then exit
          --name NAME           how this worker is shown on the host (default: the machine's name)
          --ffmpeg PATH         ffmpeg to run (default: ffmpeg from PATH)
          --ffprobe PATH        ffprobe to run (default: ffprobe from PATH)
          --stall-timeout SEC   stop an ffmpeg that makes no progress, or an ffprobe that does not
                                answer, after SEC seconds; the job is retried (default 300)
          --help                show this text

        Ctrl-C once: finish the running encodes, then exit. Twice: stop them and put their jobs back.

        VideoEncode.Worker watch DIR --profile NAME: enqueue the videos under a folder instead (see watch --help).
        """;

    /// <summary>The settings, or a one-line problem; help is true when --help was asked for.</summary>
    public static (WorkerSettings? Settings, string? Problem, bool Help) Parse(IReadOnlyList<string> args, IDictionary environment)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var settings = new WorkerSettings();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?") return (null, null, true);
            if (arg == "--once")
            {
                settings = settings with { Once = true };
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal)) return Fail($"unexpected argument '{arg}' (see --help)");
            var equals = arg.IndexOf('=');
            var name = equals > 0 ? arg[2..equals] : arg[2..];
            if (!Known.Contains(name)) return Fail($"unknown option '--{name}' (see --help)");
            if (equals > 0) values[name] = arg[(equals + 1)..];
            else if (i + 1 < args.Count) values[name] = args[++i];
            else return Fail($"--{name} needs a value");
        }
        var keyOnCommandLine = values.ContainsKey("api-key");
        if (keyOnCommandLine && values.ContainsKey("api-key-file")) return Fail("pass --api-key or --api-key-file, not both");
        foreach (var (name, variable) in EnvironmentNames)
            if (!values.ContainsKey(name) && environment[variable] is string fromEnvironment && fromEnvironment.Length > 0)
                values[name] = fromEnvironment;
        if (values.TryGetValue("server", out var server))
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                return Fail($"--server must be an http:// or https:// URL, not '{server}'");
            settings = settings with { Server = uri };
        }
        // A key file named on the command line wins over VIDEOENCODE_APIKEY.
        if (values.TryGetValue("api-key-file", out var keyFile))
        {
            var (fromFile, keyProblem) = ReadKeyFile(keyFile);
            if (fromFile is null) return Fail(keyProblem!);
            values["api-key"] = fromFile;
        }
        if (!values.TryGetValue("api-key", out var key)) return Fail("no API key: pass --api-key-file or set VIDEOENCODE_APIKEY");
        settings = settings with { ApiKey = key, ApiKeyOnCommandLine = keyOnCommandLine };
        var hasInput = values.TryGetValue("input", out var input);
        var hasOutput = values.TryGetValue("output", out var output);
        if (hasInput != hasOutput)
            return Fail(hasInput
                ? "--input needs --output (or VIDEOENCODE_OUTPUT) too; leave both out for a worker that takes only uploaded jobs"
                : "--output needs --input (or VIDEOENCODE_INPUT) too; leave both out for a worker that takes only uploaded jobs");
        if (hasInput)
        {
            if (!Directory.Exists(input)) return Fail($"the input folder '{input}' does not exist");
            settings = settings with { Input = Path.GetFullPath(input!), Output = Path.GetFullPath(output!) };
        }
        if (values.TryGetValue("scratch", out var scratch)) settings = settings with { Scratch = Path.GetFullPath(scratch) };
        if (values.TryGetValue("transfer-limit", out var limit))
        {
            if (!double.TryParse(limit, NumberStyles.Float, CultureInfo.InvariantCulture, out var megabytes) || megabytes is < 0.01 or > 100_000)
                return Fail($"--transfer-limit must be megabytes per second from 0.01 to 100000, not '{limit}'");
            settings = settings with { TransferLimit = megabytes * 1_000_000 };
        }

        if (values.TryGetValue("poll-interval", out var poll))
        {
            if (!double.TryParse(poll, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is < 0.05 or > 3600)
                return Fail($"--poll-interval must be a number of seconds from 0.05 to 3600, not '{poll}'");
            settings = settings with { PollInterval = TimeSpan.FromSeconds(seconds) };
        }
        if (values.TryGetValue("concurrency", out var concurrency))
        {
            if (!int.TryParse(concurrency, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 64)
                return Fail($"--concurrency must be a whole number from 1 to 64, not '{concurrency}'");
            settings = settings with { Concurrency = n };
        }
        if (values.TryGetValue("stall-timeout", out var stall))
        {
            if (!double.TryParse(stall, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 86400)
                return Fail($"--stall-timeout must be a number of seconds from 1 to 86400, not '{stall}'");
            settings = settings with { StallTimeout = TimeSpan.FromSeconds(seconds) };
        }
        if (values.TryGetValue("ffmpeg", out var ffmpeg)) settings = settings with { FfmpegPath = ffmpeg };
        if (values.TryGetValue("ffprobe", out var ffprobe)) settings = settings with { FfprobePath = ffprobe };
        if (values.TryGetValue("name", out var workerName))
        {
            if (workerName.Length is 0 or > 200 || workerName.Any(char.IsControl)) return Fail("--name must be 1 to 200 printable characters");
            settings = settings with { Name = workerName };
        }
        return (settings, null, false);

        static (WorkerSettings?, string?, bool) Fail(string problem) => (null, problem, false);
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

    private static readonly HashSet<string> Known =
        ["server", "api-key", "api-key-file", "input", "output", "scratch", "transfer-limit", "poll-interval", "concurrency", "ffmpeg", "ffprobe",
         "name", "stall-timeout"];

    private static readonly (string Option, string Variable)[] EnvironmentNames =
    [
        ("server", "VIDEOENCODE_SERVER"),
        ("api-key", "VIDEOENCODE_APIKEY"),
        ("input", "VIDEOENCODE_INPUT"),
        ("output", "VIDEOENCODE_OUTPUT"),
        ("scratch", "VIDEOENCODE_SCRATCH"),
    ];
}
