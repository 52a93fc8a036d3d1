using VideoEncode.Worker;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Transfers;
using VideoEncode.Worker.Watching;

// `watch DIR --profile NAME`: enqueue the videos of a folder, and each new one, instead of running jobs.
if (args is [WatchCommand.Name, ..]) return await WatchCommand.RunAsync(args);

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

// The output folder (with a shared folder) and the scratch folder, this worker's lock in each, and the leftovers of stopped workers swept away.
using var runFiles = settings.HasSharedFolders ? TakeFolder("output", settings.Output, root => RunFiles.Start(root, console.Info)) : null;
if (settings.HasSharedFolders && runFiles is null) return 1;
using var scratch = TakeFolder("scratch", settings.Scratch, root => ScratchSpace.Open(root, console.Info));
if (scratch is null) return 1;
console.Info($"Worker connected to {settings.Server}: " +
             (settings.HasSharedFolders ? $"{settings.Input} -> {settings.Output} and uploaded videos" : "uploaded videos only (no shared folder)") +
             $" (scratch {settings.Scratch}), {settings.Concurrency} at a time{(settings.Once ? ", until the queue is empty" : "")}.");

// Media transfers may rightly last hours on a slow line: no overall limit, but a silent connection is given up (TransferPace).
using var transfers = QueueClient.CreateHttpClient(settings, Timeout.InfiniteTimeSpan);
var retries = new TransferRetries(console);
var runner = new JobRunner(queue, ffmpeg, settings.HasSharedFolders ? new MediaPaths(settings.Input, settings.Output) : null, runFiles, scratch,
    new InputDownload(transfers, retries), new ResultUpload(transfers, retries), settings, console);
// Claiming stops on the first Ctrl-C or SIGTERM, or when the host drains this worker; either way running encodes finish.
using var stopClaiming = CancellationTokenSource.CreateLinkedTokenSource(shutdown.StopClaiming, queue.Drained);
await new WorkerLoop(settings, queue, runner, scratch, console).RunAsync(stopClaiming.Token, shutdown.Abort);

console.Info("Worker stopped.");
return shutdown.Abort.IsCancellationRequested ? 130 : 0;

static T? TakeFolder<T>(string what, string folder, Func<string, T> take) where T : class
{
    try
    {
        Directory.CreateDirectory(folder);
        return take(folder);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: cannot work in the {what} folder '{folder}': {e.Message}");
        return null;
    }
}
