using VideoEncode.Worker;
using VideoEncode.Worker.Media;

var (settings, problem, help) = WorkerSettings.Parse(args, Environment.GetEnvironmentVariables());
if (help)
{
    Console.WriteLine(WorkerSettings.Usage);
    return 0;
}
if (settings is null)
{
    Console.Error.WriteLine($"error: {problem}");
    return 2;
}

await using var console = new ConsoleOutput(Console.Out, live: !Console.IsOutputRedirected);
if (settings.ApiKeyOnCommandLine)
    console.Warn("--api-key is visible to every user of this machine in the process list; use --api-key-file or VIDEOENCODE_APIKEY.");
using var shutdown = new Shutdown(console);

var ffmpeg = new Ffmpeg(settings.FfmpegPath, settings.FfprobePath, settings.StallTimeout);
if (await ffmpeg.CheckInstalledAsync(shutdown.Abort) is { } missing)
{
    Console.Error.WriteLine($"error: {missing}");
    return 1;
}

using var http = QueueClient.CreateHttpClient(settings);
var queue = new QueueClient(http, console);
if (await queue.CheckAccessAsync(shutdown.Abort) is { } unreachable)
{
    Console.Error.WriteLine($"error: {unreachable}");
    return 1;
}

// The output folder, this worker's lock in it, and the leftovers of stopped workers swept away.
using var runFiles = TakeOutputFolder(settings.Output, console);
if (runFiles is null) return 1;
console.Info($"Worker connected to {settings.Server}: {settings.Input} -> {settings.Output}, " +
             $"{settings.Concurrency} at a time{(settings.Once ? ", until the queue is empty" : "")}.");

var runner = new JobRunner(queue, ffmpeg, new MediaPaths(settings.Input, settings.Output), runFiles, settings, console);
// Claiming stops on the first Ctrl-C or SIGTERM, or when the host drains this worker; either way running encodes finish.
using var stopClaiming = CancellationTokenSource.CreateLinkedTokenSource(shutdown.StopClaiming, queue.Drained);
await new WorkerLoop(settings, queue, runner, console).RunAsync(stopClaiming.Token, shutdown.Abort);

console.Info("Worker stopped.");
return shutdown.Abort.IsCancellationRequested ? 130 : 0;

static RunFiles? TakeOutputFolder(string output, ConsoleOutput console)
{
    try
    {
        Directory.CreateDirectory(output);
        return RunFiles.Start(output, console.Info);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: cannot work in the output folder '{output}': {e.Message}");
        return null;
    }
}
