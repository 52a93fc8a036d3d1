using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using VideoEncode.Contracts;

namespace VideoEncode.Worker;

/// <summary>
/// The worker's command line, on System.CommandLine: each option with its help, and the
/// <see cref="WorkerSettings"/> they make. An option left off the command line is read from its
/// VIDEOENCODE_* variable, if it has one. Parsing is strict: an unknown option or a bad value is one
/// line naming it, not a surprise later.
/// </summary>
internal sealed class WorkerCommand
{
    // An argument starting with @ is a value (a worker's --name, say), never a file of more arguments.
    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

    private readonly Dictionary<Option, string> variables = [];

    private readonly Option<string?> server, apiKey, apiKeyFile, input, output, scratch, capabilities;
    private readonly Option<double?> transferLimit;
    private readonly Option<double> pollInterval, stallTimeout;
    private readonly Option<int> concurrency;
    private readonly Option<bool> once;
    private readonly Option<string> name, ffmpeg, ffprobe;

    public WorkerCommand()
    {
        server = FromEnvironment("VIDEOENCODE_SERVER", new Option<string?>("--server")
        {
            HelpName = "url",
            Description = "The host. [default: http://127.0.0.1:5000]",
        });
        apiKeyFile = new Option<string?>("--api-key-file")
        {
            HelpName = "file",
            Description = "Read the host's API key from this file (surrounding whitespace ignored); wins over VIDEOENCODE_APIKEY. " +
                          "Required unless VIDEOENCODE_APIKEY holds the key.",
        };
        apiKey = FromEnvironment("VIDEOENCODE_APIKEY", new Option<string?>("--api-key")
        {
            HelpName = "key",
            Description = "The key itself; avoid: other users see it in the process list (the worker warns).",
        });
        input = FromEnvironment("VIDEOENCODE_INPUT", new Option<string?>("--input")
        {
            HelpName = "dir",
            Description = "The shared folder that job file names are relative to (needs --output). " +
                          "Without --input and --output the worker takes only uploaded jobs.",
        });
        output = FromEnvironment("VIDEOENCODE_OUTPUT", new Option<string?>("--output")
        {
            HelpName = "dir",
            Description = "The folder the results are written under (needs --input).",
        });
        scratch = FromEnvironment("VIDEOENCODE_SCRATCH", new Option<string?>("--scratch")
        {
            HelpName = "dir",
            Description = "Where uploaded jobs are downloaded and encoded; jobs larger than its free space are left to other " +
                          "workers. Made private (mode 0700); the worker refuses one that another user owns or may use, and one " +
                          "that overlaps --input or --output. [default: $XDG_CACHE_HOME/videoencode-worker/scratch, else " +
                          "~/.cache/videoencode-worker/scratch; on Windows videoencode-scratch in the user's temp folder]",
        });
        transferLimit = new Option<double?>("--transfer-limit")
        {
            HelpName = "MB/s",
            Description = "Cap each download and upload at this many megabytes per second. [default: no cap]",
            CustomParser = Number("--transfer-limit", "megabytes per second", 0.01, 100_000, megabytes => (double?)(megabytes * 1_000_000)),
        };
        pollInterval = new Option<double>("--poll-interval")
        {
            HelpName = "seconds",
            Description = "The pause between claims if the host cannot wait for work.",
            DefaultValueFactory = _ => new WorkerSettings().PollInterval.TotalSeconds,
            CustomParser = Number("--poll-interval", "a number of seconds", 0.05, 3600, seconds => seconds),
        };
        concurrency = new Option<int>("--concurrency")
        {
            HelpName = "n",
            Description = "Encodes to run at once.",
            DefaultValueFactory = _ => new WorkerSettings().Concurrency,
            CustomParser = result =>
            {
                var text = result.Tokens[0].Value;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64) return n;
                result.AddError($"--concurrency must be a whole number from 1 to 64, not '{text}'");
                return 0;
            },
        };
        once = new Option<bool>("--once") { Description = "Work until the queue is empty, then exit." };
        name = new Option<string>("--name")
        {
            HelpName = "name",
            Description = "How this worker is shown on the host.",
            DefaultValueFactory = _ => new WorkerSettings().Name,
        };
        name.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is not { Length: > 0 and <= 200 } given || given.Any(char.IsControl))
                result.AddError("--name must be 1 to 200 printable characters");
        });
        ffmpeg = new Option<string>("--ffmpeg") { HelpName = "path", Description = "The ffmpeg to run.", DefaultValueFactory = _ => new WorkerSettings().FfmpegPath };
        ffprobe = new Option<string>("--ffprobe") { HelpName = "path", Description = "The ffprobe to run.", DefaultValueFactory = _ => new WorkerSettings().FfprobePath };
        stallTimeout = new Option<double>("--stall-timeout")
        {
            HelpName = "seconds",
            Description = "Stop an ffmpeg that makes no progress, or an ffprobe that does not answer, after this long; the job is retried.",
            DefaultValueFactory = _ => new WorkerSettings().StallTimeout.TotalSeconds,
            CustomParser = Number("--stall-timeout", "a number of seconds", 1, 86_400, seconds => seconds),
        };
        capabilities = FromEnvironment("VIDEOENCODE_CAPABILITIES", new Option<string?>("--capabilities")
        {
            HelpName = "list",
            Description = "The encoders this worker runs, comma-separated (libx264,hevc_nvenc); copy is always added. " +
                          "[default: those ffmpeg has, each hardware one only if a test encode with it succeeds at start]",
        });

        // Help prints the description as written, so it is wrapped by hand.
        Root = new RootCommand("""
            videoencode-worker: claims encode jobs from a VideoEncode host and runs ffmpeg on them.
            Installed from a release it runs as the systemd unit videoencode-worker@NAME (see INSTALL.md);
            it needs ffmpeg and ffprobe on its PATH (or --ffmpeg, --ffprobe), and no .NET.

            With --input and --output the worker runs jobs on files in that shared folder and jobs whose
            video was uploaded to the host; without them, only uploaded ones (it needs nothing but the
            host's URL and a key: it downloads each input and uploads each result).

            Ctrl-C once: finish the running encodes, then exit. Twice: stop them and put their jobs back.
            Exit codes: 0 stopped or drained, 1 cannot start (no ffmpeg, host unreachable), 2 bad command
            line or a host that refuses this worker's version (426: upgrade the side it names), 130 Ctrl-C twice.
            OTEL_EXPORTER_OTLP_ENDPOINT set: each job attempt is traced over OpenTelemetry (OTLP).
            """)
        {
            server, apiKeyFile, apiKey, input, output, scratch, transferLimit, pollInterval, concurrency, once, name, ffmpeg, ffprobe,
            stallTimeout, capabilities,
        };
        // --version alone is answered by Program before parsing (with the protocol); System.CommandLine's own would run the worker
        // instead (Program runs it outside System.CommandLine's actions), so it is replaced by a plain option that --help lists.
        Root.Options.Remove(Root.Options.OfType<VersionOption>().Single());
        Root.Options.Add(new Option<bool>("--version") { Description = "Print the worker's version and protocol, and exit." });
    }

    /// <summary>What --version prints and the worker says at start.</summary>
    public static string VersionLine => $"videoencode-worker {Versions.Product} (protocol {Versions.Protocol})";

    /// <summary>The worker's command; `watch` is added to it as a subcommand.</summary>
    public RootCommand Root { get; }

    public ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args, Parser);

    /// <summary>--help (or -h, -?) was asked for: the parse result's action prints it.</summary>
    public static bool AsksForHelp(ParseResult parsed) => parsed.Action is HelpAction;

    /// <summary>
    /// The settings of a parsed command line, each option left off filled from its VIDEOENCODE_* variable
    /// in <paramref name="environment"/>; or the first problem, in one line.
    /// </summary>
    public (WorkerSettings? Settings, string? Problem) Settings(ParseResult parsed, IDictionary environment)
    {
        if (parsed.Errors.Count > 0) return Fail(Describe(parsed));

        var settings = new WorkerSettings
        {
            PollInterval = TimeSpan.FromSeconds(parsed.GetValue(pollInterval)),
            Concurrency = parsed.GetValue(concurrency),
            Once = parsed.GetValue(once),
            TransferLimit = parsed.GetValue(transferLimit),
            Name = parsed.GetValue(name)!,
            FfmpegPath = parsed.GetValue(ffmpeg)!,
            FfprobePath = parsed.GetValue(ffprobe)!,
            StallTimeout = TimeSpan.FromSeconds(parsed.GetValue(stallTimeout)),
        };
        var keyOnCommandLine = Given(parsed, apiKey) is not null;
        var keyFile = Given(parsed, apiKeyFile);
        if (keyOnCommandLine && keyFile is not null) return Fail("pass --api-key or --api-key-file, not both");
        if (Value(parsed, server, environment) is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                return Fail($"--server must be an http:// or https:// URL, not '{url}'");
            settings = settings with { Server = uri };
        }
        // A key file named on the command line wins over VIDEOENCODE_APIKEY.
        string? key;
        if (keyFile is not null)
        {
            (key, var keyProblem) = WorkerSettings.ReadKeyFile(keyFile);
            if (key is null) return Fail(keyProblem!);
        }
        else if ((key = Value(parsed, apiKey, environment)) is null) return Fail("no API key: pass --api-key-file or set VIDEOENCODE_APIKEY");
        settings = settings with { ApiKey = key, ApiKeyOnCommandLine = keyOnCommandLine };

        var inputFolder = Value(parsed, input, environment);
        var outputFolder = Value(parsed, output, environment);
        if ((inputFolder is null) != (outputFolder is null))
            return Fail(inputFolder is not null
                ? "--input needs --output (or VIDEOENCODE_OUTPUT) too; leave both out for a worker that takes only uploaded jobs"
                : "--output needs --input (or VIDEOENCODE_INPUT) too; leave both out for a worker that takes only uploaded jobs");
        if (inputFolder is not null)
        {
            if (!Directory.Exists(inputFolder)) return Fail($"the input folder '{inputFolder}' does not exist");
            settings = settings with { Input = Path.GetFullPath(inputFolder), Output = Path.GetFullPath(outputFolder!) };
        }
        settings = settings with
        {
            Scratch = Value(parsed, scratch, environment) is { } scratchFolder ? Path.GetFullPath(scratchFolder) : WorkerSettings.DefaultScratch(environment),
        };
        if (settings.ScratchOverlap() is { } overlap) return Fail(overlap);
        if (Value(parsed, capabilities, environment) is { } list)
        {
            var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            var unknown = names.FirstOrDefault(encoder => !ClaimRequest.IsCapability(encoder));
            if (unknown is not null || names.Count == 0)
                return Fail("--capabilities must list encoders by name, comma-separated, from: " +
                            string.Join(", ", EncoderCatalog.Encoders.Select(encoder => encoder.Name)) + (unknown is null ? "" : $" ('{unknown}' is not one)"));
            if (!names.Contains(ClaimRequest.CopyCapability)) names.Add(ClaimRequest.CopyCapability);
            if (names.Count > ClaimRequest.MaxEncoders) return Fail($"--capabilities lists more than {ClaimRequest.MaxEncoders} names");
            settings = settings with { DeclaredEncoders = names };
        }
        return (settings, null);

        static (WorkerSettings?, string?) Fail(string problem) => (null, problem);
    }

    /// <summary>Notes the option's variable, in its help too.</summary>
    private Option<string?> FromEnvironment(string variable, Option<string?> option)
    {
        variables[option] = variable;
        option.Description += $" [env: {variable}]";
        return option;
    }

    /// <summary>The option's value if the command line gives it.</summary>
    private static string? Given(ParseResult parsed, Option<string?> option) =>
        parsed.GetResult(option) is { Implicit: false } ? parsed.GetValue(option) : null;

    /// <summary>The option's value from the command line, else from its variable when that is set and not empty.</summary>
    private string? Value(ParseResult parsed, Option<string?> option, IDictionary environment) =>
        Given(parsed, option) ?? (environment[variables[option]] is string { Length: > 0 } fromEnvironment ? fromEnvironment : null);

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>, or an error in the words the worker has always used.</summary>
    private static Func<ArgumentResult, T> Number<T>(string option, string what, double min, double max, Func<double, T> convert) => result =>
    {
        var text = result.Tokens[0].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max) return convert(number);
        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option} must be {what} from {min} to {max}, not '{text}'"));
        return default!;
    };

    /// <summary>The first parse error in the worker's words: which option or argument, and what is wrong with it.</summary>
    private static string Describe(ParseResult parsed) => parsed switch
    {
        { UnmatchedTokens: [var token, ..] } when token.StartsWith('-') => $"unknown option '{token}' (see --help)",
        { UnmatchedTokens: [var token, ..] } => $"unexpected argument '{token}' (see --help)",
        { Errors: [{ SymbolResult: OptionResult { Tokens.Count: 0 } missing }, ..] } => $"{missing.Option.Name} needs a value",
        _ => parsed.Errors[0].Message,
    };
}
