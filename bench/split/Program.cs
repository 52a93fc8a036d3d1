using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.SplitBench;
using VideoEncode.Testing;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

// A 2-minute 1080p clip encoded with libx264 by one worker pinned to one core, then split across two workers pinned to
// one core each, with the worker's own argument builders and task works. A "worker" is a process of this program
// started under `taskset -c <core>` before any clock runs (as a real worker is started once), which takes steps one
// after another from its stdin; the ffmpeg and ffprobe it starts inherit its core, and run on it alone.
//   dotnet run -c Release [-- --preset medium --split 30 --seconds 120]
if (args is ["--worker"]) return await BenchTask.ServeAsync();

var preset = Option("--preset") ?? "medium";
var splitSeconds = int.Parse(Option("--split") ?? "30", CultureInfo.InvariantCulture);
var seconds = int.Parse(Option("--seconds") ?? "120", CultureInfo.InvariantCulture);
var settings = EncodeSettings.Defaults with { Crf = "23", Preset = preset };
var folder = Directory.CreateTempSubdirectory("videoencode-split-bench-").FullName;
try
{
    var input = Path.Combine(folder, "clip.mp4");
    Console.WriteLine($"Making (or taking from the test clips' cache) a {seconds} s 1080p25 clip ...");
    // The clip's keyframes are x264's default 250 frames (10 s) apart: cuts fall on a 10-second grid.
    await TestMedia.GenerateAsync(["-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc2=size=1920x1080:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", input]);
    await using var core0 = BenchWorker.Start(0);
    await using var core1 = BenchWorker.Start(1);
    var machine = new MachineLoad();

    Console.WriteLine($"One worker on core 0: libx264 crf 23 preset {preset}, -threads 1, then the quality gate ...");
    var whole = await core0.RunAsync(new BenchStep("whole", input, Path.Combine(folder, "whole"), settings));

    Console.WriteLine($"Two workers on cores 0 and 1, split_seconds {splitSeconds} ...");
    var wall = Stopwatch.StartNew();
    var plan = await core0.RunAsync(new BenchStep("plan", input, Path.Combine(folder, "plan"), settings) { SplitSeconds = splitSeconds });
    var cuts = plan.Plan!.Chunks;
    var queue = new Queue<BenchStep>(cuts.Select((cut, index) => new BenchStep("chunk", input, Path.Combine(folder, $"chunk{index}"), settings)
        { Start = cut.StartSeconds, End = cut.EndSeconds, Frames = cut.Frames, Index = index }));
    // The host adds the audio task after the chunks: the worker that comes for work when the chunks are all taken runs it.
    queue.Enqueue(new BenchStep("audio", input, Path.Combine(folder, "audio"), settings));
    var done = new List<(int Core, BenchStep Step, BenchResult Result)>();
    async Task Worker(int core)
    {
        while (true)
        {
            BenchStep step;
            lock (queue)
            {
                if (!queue.TryDequeue(out step!)) return;
            }
            var result = await (core == 0 ? core0 : core1).RunAsync(step);
            lock (done) done.Add((core, step, result));
        }
    }
    await Task.WhenAll(Worker(0), Worker(1));
    var chunkResults = done.Where(item => item.Step.Kind == "chunk").OrderBy(item => item.Step.Index).ToList();
    var audio = done.Single(item => item.Step.Kind == "audio");
    var join = await core0.RunAsync(new BenchStep("join", input, Path.Combine(folder, "join"), settings)
    {
        Parts = [.. chunkResults.Select(item => item.Result.Output!), audio.Result.Output!], ChunkFrames = [.. chunkResults.Select(item => item.Step.Frames)],
    });
    var splitWall = wall.Elapsed.TotalSeconds;
    var load = machine.Read();

    var chunkSeconds = chunkResults.Select(item => item.Result.Seconds).ToList();
    var serial = plan.Seconds + join.Seconds;
    Console.WriteLine();
    Console.WriteLine($"Split bench — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; {seconds} s of 1080p25 testsrc2 + 440 Hz sine; " +
                      $"libx264 crf 23 preset {preset}, -threads 1; split_seconds {splitSeconds}: {cuts.Count} chunks");
    Console.WriteLine($"Machine while it ran: load average {load.LoadBefore} before, {load.LoadAfter} after; all cores busy {load.BusyPercent:0} % " +
                      "(this bench's two pinned cores count in it)");
    Console.WriteLine();
    Console.WriteLine("| step | where | seconds |");
    Console.WriteLine("| --- | --- | --- |");
    Console.WriteLine($"| single: encode | core 0 | {whole.EncodeSeconds:0.0} |");
    Console.WriteLine($"| single: quality gate | core 0 | {whole.GateSeconds:0.0} |");
    Console.WriteLine($"| **single, wall** | | **{whole.Seconds:0.0}** |");
    Console.WriteLine($"| split: plan (ffprobe packet list, cuts) | core 0 | {plan.Seconds:0.0} |");
    foreach (var (core, step, result) in done.OrderBy(item => item.Step.Kind == "audio").ThenBy(item => item.Step.Index))
        Console.WriteLine(step.Kind == "chunk"
            ? $"| split: chunk {step.Index} ({step.Start:0.##}–{step.End:0.##} s, {step.Frames} frames) | core {core} | {result.Seconds:0.0} |"
            : $"| split: audio (and tags, chapters) | core {core} | {result.Seconds:0.0} |");
    Console.WriteLine($"| split: join + frame and length checks | core 0 | {join.Seconds - join.GateSeconds:0.0} |");
    Console.WriteLine($"| split: quality gate (of the join) | core 0 | {join.GateSeconds:0.0} |");
    Console.WriteLine($"| **split, wall** | | **{splitWall:0.0}** |");
    Console.WriteLine();
    Console.WriteLine($"Speed-up, wall clock: {whole.Seconds / splitWall:0.00}× (single {whole.Seconds:0.0} s, split {splitWall:0.0} s); " +
                      $"encoding alone: {whole.EncodeSeconds / (splitWall - serial):0.00}× (the chunks and audio took {splitWall - serial:0.0} s of wall clock).");
    Console.WriteLine($"Overhead of splitting: plan {plan.Seconds:0.0} s, audio {audio.Result.Seconds:0.0} s (beside the chunks), join {join.Seconds - join.GateSeconds:0.0} s, " +
                      $"gate {join.GateSeconds:0.0} s (a whole encode's gate: {whole.GateSeconds:0.0} s); chunks encoded {chunkSeconds.Sum():0.0} s " +
                      $"against {whole.EncodeSeconds:0.0} s whole (+{(chunkSeconds.Sum() / whole.EncodeSeconds - 1) * 100:0.0} %: each chunk decodes from the keyframe before its own).");
    Console.WriteLine();
    Console.WriteLine("N workers on N machines, from these figures (serial: plan + join + gate; parallel: the chunks and the audio, dealt out whole):");
    Console.WriteLine("| workers | wall | speed-up |");
    Console.WriteLine("| --- | --- | --- |");
    List<double> tasks = [.. chunkSeconds, audio.Result.Seconds];
    foreach (var workers in new[] { 1, 2, 4, 8, 16 })
    {
        var projected = serial + Projected(tasks, workers);
        Console.WriteLine($"| {workers} | {projected:0.0} s | {whole.Seconds / projected:0.00}× |");
    }
    // A long film is this clip many times over: every step's time grows with its length, and its chunks are many, so
    // they deal out evenly; what stays serial is the plan, the join and the gate (Amdahl).
    const double Film = 2 * 60 * 60;
    var scale = Film / seconds;
    var (filmSerial, filmParallel, filmWhole) = (serial * scale, tasks.Sum() * scale, whole.Seconds * scale);
    Console.WriteLine();
    Console.WriteLine($"A 2-hour film ({scale:0}× this clip, {Film / splitSeconds:0} chunks): serial {filmSerial / 60:0.0} min, chunks and audio {filmParallel / 60:0.0} min of work, " +
                      $"one worker {filmWhole / 60:0.0} min; at most {filmWhole / filmSerial:0.0}× however many workers.");
    Console.WriteLine("| workers | wall | speed-up |");
    Console.WriteLine("| --- | --- | --- |");
    foreach (var workers in new[] { 1, 2, 4, 8, 16, 32 })
    {
        var projected = filmSerial + filmParallel / workers;
        Console.WriteLine($"| {workers} | {projected / 60:0.0} min | {filmWhole / projected:0.00}× |");
    }
    return 0;
}
finally
{
    Directory.Delete(folder, recursive: true);
}

// The longest any one of `workers` ends up busy when each takes the next task as it comes free, in order.
static double Projected(IReadOnlyList<double> tasks, int workers)
{
    var busy = new double[workers];
    foreach (var task in tasks)
    {
        var free = Array.IndexOf(busy, busy.Min());
        busy[free] += task;
    }
    return busy.Max();
}

string? Option(string name) => args.SkipWhile(arg => arg != name).Skip(1).FirstOrDefault();
