using System.CommandLine;
using System.Globalization;

namespace VideoEncode.Worker.Watching;

/// <summary>
/// `VideoEncode.Worker watch DIR --profile NAME`: enqueues every video under DIR once, and each new
/// one once it has settled (<see cref="FolderWatcher"/>). The host and key are given as to the
/// worker (--server, --api-key-file, VIDEOENCODE_SERVER, VIDEOENCODE_APIKEY). Ctrl-C or SIGTERM
/// stops it between two files; exit 0. A host that refuses the key: one line on stderr, exit 1.
/// </summary>
internal static class WatchCommand
{
    /// <summary>Its own Ctrl-C handling: stop between two files, waiting this long at most.</summary>
    public static readonly InvocationConfiguration Invocation = new() { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>The `watch` subcommand of the worker's command (<see cref="WorkerCommand"/>), run with <see cref="Invocation"/>.</summary>
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "The folder to watch, subfolders included." };
        var profile = new Option<string?>("--profile") { HelpName = "name", Description = "The profile each job is encoded with (GET /api/profiles)." };
        var crf = new Option<string?>("--crf") { Description = "The jobs' crf; with --profile, overrides the profile's." };
        var preset = new Option<string?>("--preset") { Description = "The jobs' preset; with --profile, overrides the profile's." };
        var input = new Option<string?>("--input")
        {
            HelpName = "dir",
            Description = "The workers' input folder (on this machine) that job file names are relative to: the watched folder or one " +
                          "above it. Default: VIDEOENCODE_INPUT if the watched folder is inside it, else the watched folder itself.",
        };
        var settle = new Option<double>("--settle")
        {
            HelpName = "seconds",
            Description = "Enqueue a file once its size and time have not changed for this long.",
            DefaultValueFactory = _ => WatchOptions.DefaultSettle.TotalSeconds,
        };
        var rescan = new Option<double>("--rescan")
        {
            HelpName = "seconds",
            Description = "List the whole folder again this often, for changes the system did not report.",
            DefaultValueFactory = _ => WatchOptions.DefaultRescan.TotalSeconds,
        };
        var server = new Option<string?>("--server") { HelpName = "url", Description = "The host (default http://127.0.0.1:5000; env VIDEOENCODE_SERVER)." };
        var keyFile = new Option<string?>("--api-key-file") { HelpName = "file", Description = "Read the API key from this file (or set VIDEOENCODE_APIKEY)." };
        var key = new Option<string?>("--api-key") { Description = "The key itself; avoid: other users see it in the process list." };
        foreach (var seconds in new[] { settle, rescan })
            seconds.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<double>() is < 0.05 or > 86_400)
                    result.AddError($"{result.Option.Name} must be a number of seconds from 0.05 to 86400.");
            });

        // Help prints the description as written, so it is wrapped by hand.
        var watch = new Command("watch", """
            Enqueue every video under a folder once, and each new one as it appears. A file still
            being written is waited out (its size and time unchanged for --settle seconds). The host
            remembers each file by path, size and modification time, so a restarted watcher, or two
            watching one folder, enqueue it once; a file that changes is enqueued again; deleting a
            file does nothing. Videos: .mkv .mp4 .m4v .mov .avi .webm .ts .m2ts .mts .wmv .flv .mpg
            .mpeg .vob .ogv .3gp; names starting with "." and hidden folders are skipped.
            Keep the workers' output folder outside the watched folder.
            """)
        {
            folder, profile, crf, preset, input, settle, rescan, server, keyFile, key,
        };
        watch.SetAction(async (parsed, stop) =>
        {
            var environment = Environment.GetEnvironmentVariables();
            var workerArgs = new List<string>();
            if (parsed.GetValue(server) is { } url) workerArgs.AddRange(["--server", url]);
            if (parsed.GetValue(keyFile) is { } file) workerArgs.AddRange(["--api-key-file", file]);
            if (parsed.GetValue(key) is { } given) workerArgs.AddRange(["--api-key", given]);
            // The worker's own rules for the host and the key; its folders play no part here.
            environment.Remove("VIDEOENCODE_INPUT");
            environment.Remove("VIDEOENCODE_OUTPUT");
            var (connection, problem, _) = WorkerSettings.Parse(workerArgs, environment);
            if (connection is null) return Fail(problem!);
            var settings = new WatchedJobSettings(parsed.GetValue(profile), parsed.GetValue(crf), parsed.GetValue(preset));
            if (settings.Profile is null && (settings.Crf is null || settings.Preset is null))
                return Fail("say how to encode: --profile NAME, or --crf and --preset");
            var (options, folderProblem) = Folders(parsed.GetValue(folder)!, parsed.GetValue(input),
                Environment.GetEnvironmentVariable("VIDEOENCODE_INPUT"));
            if (options is null) return Fail(folderProblem!);
            options = options with { Settle = TimeSpan.FromSeconds(parsed.GetValue(settle)), Rescan = TimeSpan.FromSeconds(parsed.GetValue(rescan)) };

            await using var console = new ConsoleOutput(Console.Out, live: false);
            if (connection.ApiKeyOnCommandLine)
                console.Warn("--api-key is visible to every user of this machine in the process list; use --api-key-file or VIDEOENCODE_APIKEY.");
            using var http = QueueClient.CreateHttpClient(connection, EnqueueTimeout);
            console.Info($"Watching {options.Folder} for {connection.Server} (file names relative to {options.InputRoot}, " +
                         string.Create(CultureInfo.InvariantCulture, $"settle {options.Settle.TotalSeconds:0.##} s, rescan every {options.Rescan.TotalSeconds:0.##} s)."));
            var fatal = await new FolderWatcher(options, new WatchedJobs(http, settings), console, TimeProvider.System).RunAsync(stop);
            if (fatal is not null) return Fail(fatal);
            console.Info("Watcher stopped.");
            return 0;
        });
        return watch;
    }

    private static readonly TimeSpan EnqueueTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The watched folder and the root its files are named from: --input, else VIDEOENCODE_INPUT when it holds the folder, else the folder.</summary>
    internal static (WatchOptions? Options, string? Problem) Folders(string folder, string? input, string? environmentInput)
    {
        if (!Directory.Exists(folder)) return (null, $"the folder '{folder}' does not exist");
        var watched = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var environmentRoot = string.IsNullOrEmpty(environmentInput) ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(environmentInput));
        var root = input is not null ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(input))
            : environmentRoot is not null && Holds(environmentRoot, watched) ? environmentRoot
            : watched;
        if (!Holds(root, watched)) return (null, $"--input '{root}' must be the watched folder or a folder above it");
        return (new WatchOptions(watched, root, WatchOptions.DefaultSettle, WatchOptions.DefaultRescan), null);
    }

    private static bool Holds(string root, string folder) =>
        folder == root || folder.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static int Fail(string problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        return 1;
    }
}
