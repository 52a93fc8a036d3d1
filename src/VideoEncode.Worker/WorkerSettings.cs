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
    public string Input { get; init; } = "";
    public string Output { get; init; } = "";
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
    public int Concurrency { get; init; } = 1;
    public bool Once { get; init; }
    public string FfmpegPath { get; init; } = "ffmpeg";
    public string FfprobePath { get; init; } = "ffprobe";
    public string Name { get; init; } = Environment.MachineName;
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(300);

    public const string Usage = """
        VideoEncode worker: claims encode jobs from a VideoEncode host and runs ffmpeg on them.

        Usage: VideoEncode.Worker --api-key-file FILE --input DIR --output DIR [options]

          --server URL          the host (default http://127.0.0.1:5000)      env VIDEOENCODE_SERVER
          --api-key-file FILE   read the host's API key from FILE (required,  env VIDEOENCODE_APIKEY
                                unless VIDEOENCODE_APIKEY holds the key)
          --api-key KEY         the key itself; avoid: other users see it in the process list
          --input DIR           folder that job file names are relative to    env VIDEOENCODE_INPUT
          --output DIR          folder the .mp4 results are written under     env VIDEOENCODE_OUTPUT
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
        if (!values.TryGetValue("input", out var input)) return Fail("no input folder: pass --input or set VIDEOENCODE_INPUT");
        if (!values.TryGetValue("output", out var output)) return Fail("no output folder: pass --output or set VIDEOENCODE_OUTPUT");
        if (!Directory.Exists(input)) return Fail($"the input folder '{input}' does not exist");
        settings = settings with { ApiKey = key, ApiKeyOnCommandLine = keyOnCommandLine, Input = Path.GetFullPath(input), Output = Path.GetFullPath(output) };

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
    private static (string? Key, string? Problem) ReadKeyFile(string path)
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
        ["server", "api-key", "api-key-file", "input", "output", "poll-interval", "concurrency", "ffmpeg", "ffprobe", "name", "stall-timeout"];

    private static readonly (string Option, string Variable)[] EnvironmentNames =
    [
        ("server", "VIDEOENCODE_SERVER"),
        ("api-key", "VIDEOENCODE_APIKEY"),
        ("input", "VIDEOENCODE_INPUT"),
        ("output", "VIDEOENCODE_OUTPUT"),
    ];
}
