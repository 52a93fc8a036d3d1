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
    var beforeJoin = wall.Elapsed.TotalSeconds;
    var join = await core0.RunAsync(new BenchStep("join", input, Path.Combine(folder, "join"), settings)
    {
        Parts = [.. chunkResults.Select(item => item.Result.Output!), audio.Result.Output!], ChunkFrames = [.. chunkResults.Select(item => item.Step.Frames)],
    });
    var load = machine.Read();
    // Up to the join's own end: the join step then runs its concat and gate again, alone, which the split did not wait for.
    var wallTime = new Timing(beforeJoin + join.Time.Seconds, 0);

    // The split's CPU critical path: the plan, the busier worker's chunks and audio, the join (what the wall clock would
    // be on two cores of its own).
    var perCore = new[] { 0, 1 }.Select(core => done.Where(item => item.Core == core).Sum(item => item.Result.Time.Cpu)).ToArray();
    var splitCpu = plan.Time.Cpu + perCore.Max() + join.Time.Cpu;
    Console.WriteLine();
    Console.WriteLine($"Split bench — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; {seconds} s of 1080p25 testsrc2 + 440 Hz sine; " +
                      $"libx264 crf 23 preset {preset}, -threads 1; split_seconds {splitSeconds}: {cuts.Count} chunks");
    Console.WriteLine($"Machine while it ran: load average {load.LoadBefore} before, {load.LoadAfter} after; all cores busy {load.BusyPercent:0} % " +
                      "(this bench's two pinned cores count in it)");
    Console.WriteLine();
    Console.WriteLine("| step | where | wall s | CPU s |");
    Console.WriteLine("| --- | --- | --- | --- |");
    void Row(string what, string where, Timing time) => Console.WriteLine($"| {what} | {where} | {time.Seconds:0.0} | {time.Cpu:0.0} |");
    Row("single: encode", "core 0", whole.Encode!);
    Row("single: quality gate", "core 0", whole.Gate!);
    Row("**single**", "", whole.Time);
    Row("split: plan (packet list, cuts)", "core 0", plan.Time);
    foreach (var (core, step, result) in done.OrderBy(item => item.Step.Kind == "audio").ThenBy(item => item.Step.Index))
        Row(step.Kind == "chunk" ? $"split: chunk {step.Index} ({step.Start:0.##}–{step.End:0.##} s, {step.Frames} frames)" : "split: audio, tags, chapters",
            $"core {core}", result.Time);
    Row("split: join (concat, frame and length checks, gate)", "core 0", join.Time);
    Row("— its concat copy, run again alone", "core 0", join.Concat!);
    Row("— its quality gate, run again alone", "core 0", join.Gate!);
    Console.WriteLine($"| **split** | | **{wallTime.Seconds:0.0}** | {splitCpu:0.0} (critical path) |");
    Console.WriteLine();
    var chunkCpu = chunkResults.Sum(item => item.Result.Time.Cpu);
    Console.WriteLine($"Speed-up, wall clock: {whole.Time.Seconds / wallTime.Seconds:0.00}× (single {whole.Time.Seconds:0.0} s, split {wallTime.Seconds:0.0} s); " +
                      $"in CPU time along the critical path (the wall clock on cores of their own): {whole.Time.Cpu / splitCpu:0.00}×.");
    Console.WriteLine($"Overhead of splitting, CPU s: plan {plan.Time.Cpu:0.0}, audio {audio.Result.Time.Cpu:0.0} (beside the chunks), join {join.Time.Cpu:0.0} " +
                      $"(gate alone {join.Gate!.Cpu:0.0}; a whole encode's gate {whole.Gate!.Cpu:0.0}); the chunks' encodes {chunkCpu:0.0} against {whole.Encode!.Cpu:0.0} whole " +
                      $"({(chunkCpu / whole.Encode.Cpu - 1) * 100:+0.0;-0.0} %: each chunk but the first decodes from the keyframe before its own).");

    // N workers on N machines, in CPU time (cores of their own): the serial part is the plan and the join; the chunks and the
    // audio are dealt out whole, each to the worker that comes free first.
    var serial = plan.Time.Cpu + join.Time.Cpu;
    List<double> tasks = [.. chunkResults.Select(item => item.Result.Time.Cpu), audio.Result.Time.Cpu];
    Console.WriteLine();
    Console.WriteLine($"N workers on N machines, from these CPU figures (serial: plan + join {serial:0.0} s; parallel: {cuts.Count} chunks and the audio, {tasks.Sum():0.0} s):");
    Console.WriteLine("| workers | wall | speed-up |");
    Console.WriteLine("| --- | --- | --- |");
    foreach (var workers in new[] { 1, 2, 4, 8 })
    {
        var projected = serial + Projected(tasks, workers);
        Console.WriteLine($"| {workers} | {projected:0.0} s | {whole.Time.Cpu / projected:0.00}× |");
    }

    // A long film is this clip many times over: every step's time grows with its length, and its chunks are many, so
    // they deal out evenly; what stays serial is the plan, the join and the gate (Amdahl).
    const double Film = 2 * 60 * 60;
    var scale = Film / seconds;
    var (filmSerial, filmParallel, filmWhole) = (serial * scale, tasks.Sum() * scale, whole.Time.Cpu * scale);
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
