using System.CommandLine;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VideoEncode.Contracts;
using VideoEncode.Worker;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Transfers;
using VideoEncode.Worker.Watching;

// Before the parser: --version anywhere prints the version (with the protocol, which System.CommandLine's own would not).
if (args.Contains("--version"))
{
    Console.WriteLine(WorkerCommand.VersionLine);
    return 0;
}

var command = new WorkerCommand();
// `watch DIR --profile NAME`: enqueue the videos of a folder, and each new one, instead of running jobs.
command.Root.Subcommands.Add(WatchCommand.Create());
command.Root.SetAction((parsed, _) => RunAsync(parsed));
var parsed = command.Parse(args);
// The worker's own bad input is one line and exit 2 (not System.CommandLine's list of errors and help), and its
// Shutdown takes Ctrl-C in two steps, so it runs outside System.CommandLine's invocation; watch and --help run inside it.
return parsed.CommandResult.Command == command.Root && !WorkerCommand.AsksForHelp(parsed)
    ? await RunAsync(parsed)
    : await parsed.InvokeAsync(WatchCommand.Invocation);

async Task<int> RunAsync(ParseResult parsed)
{
    var (given, problem) = command.Settings(parsed, Environment.GetEnvironmentVariables());
    if (given is not { } settings)
    {
        Console.Error.WriteLine($"error: {problem}");
        return 2;
    }

    await using var console = new ConsoleOutput(Console.Out, live: !Console.IsOutputRedirected);
    // Traces of each job attempt over OTLP, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (JobTracing); disposing flushes them.
    using var tracing = Tracing.Requested(Environment.GetEnvironmentVariable)
        ? Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(resource => resource.AddService("videoencode-worker", serviceVersion: Versions.Product))
            .AddSource(Tracing.WorkerSource, Tracing.WorkerRequestSource).AddOtlpExporter().Build()
        : null;
    if (settings.ApiKeyOnCommandLine)
        console.Warn("--api-key is visible to every user of this machine in the process list; use --api-key-file or VIDEOENCODE_APIKEY.");
    using var shutdown = new Shutdown(console);

    var ffmpeg = new Ffmpeg(settings.FfmpegPath, settings.FfprobePath, settings.StallTimeout);
    if (await ffmpeg.CheckInstalledAsync(shutdown.Abort) is { } missing)
    {
        Console.Error.WriteLine($"error: {missing}");
        return 1;
    }
    // The encoders every claim lists: declared, or found now (and told once the host is reached, so a start-up problem stays one line).
    var detected = settings.DeclaredEncoders is null ? await new EncoderDetection(ffmpeg).DetectAsync(shutdown.Abort) : default;
    if (settings.DeclaredEncoders is null && detected.Found is null)
    {
        Console.Error.WriteLine($"error: {detected.Problem}");
        return 1;
    }
    settings = settings with { Encoders = settings.DeclaredEncoders ?? detected.Found!.Encoders };

    // One retry policy for the queue calls and the media transfers.
    var retries = new Retries(console, TimeProvider.System);
    using var http = QueueClient.CreateHttpClient(settings);
    var queue = new QueueClient(http, console, retries);
    if (await queue.CheckAccessAsync(shutdown.Abort) is { } unreachable)
    {
        Console.Error.WriteLine($"error: {unreachable}");
        return 1;
    }

    // The output folder (with a shared folder) and the scratch folder, this worker's lock in each, and the leftovers of stopped workers swept away.
    using var runFiles = settings.HasSharedFolders ? TakeFolder("output", settings.Output, root => RunFiles.Start(root, console.Info)) : null;
    if (settings.HasSharedFolders && runFiles is null) return 1;
    using var scratch = TakeFolder("scratch", settings.Scratch, root => ScratchSpace.Open(root, console.Info));
    if (scratch is null) return 1;
    // Once the start-up checks passed, so that a start-up problem stays one line.
    console.Info($"{WorkerCommand.VersionLine} starting.");
    console.Info($"Worker connected to {settings.Server}: " +
                 (settings.HasSharedFolders ? $"{settings.Input} -> {settings.Output} and uploaded videos" : "uploaded videos only (no shared folder)") +
                 $" (scratch {settings.Scratch}), {settings.Concurrency} at a time{(settings.Once ? ", until the queue is empty" : "")}.");
    console.Info($"Encoders{(detected.Found is null ? " (--capabilities, not tested)" : "")}: {string.Join(", ", settings.Encoders)}.");
    foreach (var rejected in detected.Found?.Rejected ?? []) console.Info($"Not using {rejected.Name}: its test encode failed: {rejected.Reason}");

    // Media transfers may rightly last hours on a slow line: no overall limit, but a silent connection is given up (TransferPace).
    using var transfers = QueueClient.CreateHttpClient(settings, Timeout.InfiniteTimeSpan);
    var runner = new JobRunner(queue, ffmpeg, settings.HasSharedFolders ? new MediaPaths(settings.Input, settings.Output) : null, runFiles, scratch,
        new InputDownload(transfers, retries), new ResultUpload(transfers, retries), settings, console);
    // Claiming stops on the first Ctrl-C or SIGTERM, when the host drains this worker, or when it refuses this worker's version;
    // either way running encodes finish.
    using var stopClaiming = CancellationTokenSource.CreateLinkedTokenSource(shutdown.StopClaiming, queue.Drained, queue.VersionRefused);
    await new WorkerLoop(settings, queue, runner, scratch, console).RunAsync(stopClaiming.Token, shutdown.Abort);

    console.Info("Worker stopped.");
    if (shutdown.Abort.IsCancellationRequested) return 130;
    // Exit 2, as for a bad command line: a service manager that restarts on failure would only be refused again.
    if (queue.RefusedVersion is { } refusal)
    {
        Console.Error.WriteLine($"error: {refusal}");
        return 2;
    }
    return 0;
}

static T? TakeFolder<T>(string what, string folder, Func<string, T> take) where T : class
{
    try
    {
        // Each makes its folder itself: the scratch folder is made private (0700) from the start.
        return take(folder);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: cannot work in the {what} folder '{folder}': {e.Message}");
        return null;
    }
}
