using System.Diagnostics;
using System.Text.Json;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.SplitBench;

/// <summary>One step of the bench, as the main process hands it to a pinned process of its own.</summary>
public sealed record BenchStep(string Kind, string Input, string Folder, EncodeSettings Settings)
{
    public int? SplitSeconds { get; init; }
    public double Start { get; init; }
    public double End { get; init; }
    public long Frames { get; init; }
    public int Index { get; init; }
    /// <summary>A join's parts: the chunks' files in order, then the audio's; and each chunk's frames.</summary>
    public IReadOnlyList<string> Parts { get; init; } = [];
    public IReadOnlyList<long> ChunkFrames { get; init; } = [];
}

/// <summary>Wall-clock and CPU seconds (this process and the ffmpeg and ffprobe it ran, on its one core).</summary>
public sealed record Timing(double Seconds, double Cpu)
{
    public static Timing operator -(Timing a, Timing b) => new(a.Seconds - b.Seconds, a.Cpu - b.Cpu);
    public static Timing operator +(Timing a, Timing b) => new(a.Seconds + b.Seconds, a.Cpu + b.Cpu);
    public static readonly Timing Zero = new(0, 0);
}

/// <summary>What a step reports: its time; for the whole encode its encode and gate apart; for the join, its concat and gate each run again alone; its result file; a plan's cuts.</summary>
public sealed record BenchResult(Timing Time, string? Output)
{
    public Timing? Encode { get; init; }
    public Timing? Gate { get; init; }
    public Timing? Concat { get; init; }
    public SplitPlan? Plan { get; init; }
}

/// <summary>
/// A step run in this process, which the main process started pinned to one core. The whole encode, a chunk and the
/// audio are the worker's own argument builders (<see cref="EncodeArguments.Build"/>, <see cref="SplitArguments"/>)
/// with one thread asked of ffmpeg's decoder and encoder, as the fair comparison wants; the plan and the join are the
/// worker's task works themselves (<see cref="PlanWork"/>, <see cref="JoinWork"/>, which runs the quality gate).
/// </summary>
public static class BenchTask
{
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>A worker's loop: a step's JSON per line on stdin, its result's JSON per line on stdout, until stdin ends.</summary>
    public static async Task<int> ServeAsync()
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var step = JsonSerializer.Deserialize<BenchStep>(line, WireJson.Options)!;
            Console.WriteLine(JsonSerializer.Serialize(await RunAsync(step), WireJson.Options));
        }
        return 0;
    }

    private static async Task<BenchResult> RunAsync(BenchStep step)
    {
        Directory.CreateDirectory(step.Folder);
        var ffmpeg = new Ffmpeg("ffmpeg", "ffprobe", StallTimeout);
        var input = await ffmpeg.ProbeAsync(step.Input, CancellationToken.None);
        var clock = Clock.Start();
        switch (step.Kind)
        {
            case "whole":
            {
                var output = Path.Combine(step.Folder, "whole" + FileNames.OutputExtension(step.Settings.Container));
                await EncodeAsync(ffmpeg, OneThread(EncodeArguments.Build(step.Input, output, step.Settings, input)), input.DurationSeconds);
                var encoded = clock.Read();
                await GateAsync(ffmpeg, step, input, output);
                var total = clock.Read();
                return new BenchResult(total, output) { Encode = encoded, Gate = total - encoded };
            }
            case "chunk":
            {
                var output = Path.Combine(step.Folder, SplitArguments.ChunkFile);
                await EncodeAsync(ffmpeg, OneThread(SplitArguments.Chunk(step.Input, output, step.Settings, input, step.Start, step.End, step.Frames)), step.End - step.Start);
                // As the chunk task does: the frames counted back.
                var (list, _) = await ffmpeg.ListVideoPacketsAsync(output, _ => { }, CancellationToken.None);
                if (list?.Packets.Count != step.Frames) throw new InvalidOperationException($"chunk {step.Index}: {list?.Packets.Count} frames, not {step.Frames}");
                return new BenchResult(clock.Read(), output);
            }
            case "audio":
            {
                var output = Path.Combine(step.Folder, SplitArguments.RestFile(step.Settings, input));
                await EncodeAsync(ffmpeg, OneThread(SplitArguments.Rest(step.Input, output, step.Settings, input)), input.DurationSeconds);
                return new BenchResult(clock.Read(), output);
            }
            case "plan":
            {
                var done = Done(await new PlanWork().RunAsync(Context(step, ffmpeg, input, new JobTask { Kind = TaskKinds.Plan, SplitSeconds = step.SplitSeconds }), CancellationToken.None));
                return new BenchResult(clock.Read(), done.Result) { Plan = done.Finish.Plan };
            }
            case "join":
            {
                var parts = step.Parts.Select((path, index) => index < step.ChunkFrames.Count
                    ? new TaskPart(index, TaskKinds.Chunk, path, null, step.ChunkFrames[index])
                    : new TaskPart(index, TaskKinds.Audio, path, null, null)).ToList();
                var context = Context(step, ffmpeg, input, new JobTask { Kind = TaskKinds.Join, Parts = parts }) with
                {
                    FetchPart = (part, _) => Task.FromResult(part.OutputName),
                };
                var done = Done(await new JoinWork().RunAsync(context, CancellationToken.None));
                var joined = clock.Read();
                // The join ran its concat and the gate inside; each is run once more, alone, to say what part of the join it was.
                var again = Path.Combine(step.Folder, "again" + FileNames.OutputExtension(step.Settings.Container));
                await EncodeAsync(ffmpeg, SplitArguments.Join(Path.Combine(context.WorkFolder, SplitArguments.ChunkListFile), step.Parts[^1], again, step.Settings, input),
                    input.DurationSeconds);
                var concat = clock.Read() - joined;
                await GateAsync(ffmpeg, step, input, done.Result);
                return new BenchResult(joined, done.Result) { Concat = concat, Gate = clock.Read() - joined - concat };
            }
            default:
                throw new ArgumentException($"No step '{step.Kind}'.");
        }
    }

    /// <summary>The worker's arguments with one thread for the decoder (before the input) and the encoder (before the output).</summary>
    private static List<string> OneThread(IReadOnlyList<string> arguments)
    {
        var args = arguments.ToList();
        args.InsertRange(args.IndexOf("-protocol_whitelist"), ["-threads", "1"]);
        args.InsertRange(args.IndexOf("-progress"), ["-threads", "1"]);
        return args;
    }

    private static async Task EncodeAsync(Ffmpeg ffmpeg, IReadOnlyList<string> arguments, double? seconds)
    {
        var outcome = await ffmpeg.EncodeAsync(arguments, seconds, _ => { }, CancellationToken.None);
        if (!outcome.Succeeded) throw new InvalidOperationException($"ffmpeg failed: {outcome.LogTail}");
    }

    private static async Task GateAsync(Ffmpeg ffmpeg, BenchStep step, ProbeResult input, string output)
    {
        var verdict = await new QualityGate(ffmpeg, StallTimeout).CheckAsync(step.Settings, step.Input, input, output, _ => { }, CancellationToken.None);
        if (verdict is not GateVerdict.Passed) throw new InvalidOperationException($"The gate did not pass: {verdict}");
    }

    private static TaskContext Context(BenchStep step, Ffmpeg ffmpeg, ProbeResult input, JobTask task) => new(
        new Job { Id = 1, FileName = Path.GetFileName(step.Input), Settings = step.Settings }, task, step.Input, input,
        Directory.CreateDirectory(Path.Combine(step.Folder, "work")).FullName, ffmpeg, StallTimeout, _ => { },
        (_, _) => throw new InvalidOperationException("Only a join fetches parts."));

    private static TaskWorkResult.Done Done(TaskWorkResult result) => result as TaskWorkResult.Done
        ?? throw new InvalidOperationException($"The task did not finish: {result}");
}

/// <summary>
/// Wall clock and CPU time since its start: this process's own and that of the children it has waited for (ffmpeg and
/// ffprobe; /proc/self/stat's utime, stime, cutime and cstime), which on a core shared with other processes is what the
/// step would have taken on a core of its own.
/// </summary>
public sealed class Clock
{
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private readonly double cpu = CpuSeconds();

    public static Clock Start() => new();

    public Timing Read() => new(watch.Elapsed.TotalSeconds, CpuSeconds() - cpu);

    private static double CpuSeconds()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // Fields after the command's closing parenthesis, from the state (field 3): utime..cstime are fields 14–17.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields[11..15].Sum(long.Parse) / 100.0;
    }
}

/// <summary>A process of this program pinned to one core with `taskset`, serving steps (<see cref="BenchTask.ServeAsync"/>), one at a time.</summary>
public sealed class BenchWorker : IAsyncDisposable
{
    private readonly Process process;

    private BenchWorker(Process process) => this.process = process;

    public static BenchWorker Start(int core)
    {
        var start = new ProcessStartInfo("taskset") { RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-c", core.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", typeof(BenchTask).Assembly.Location, "--worker" })
            start.ArgumentList.Add(argument);
        return new BenchWorker(Process.Start(start)!);
    }

    public async Task<BenchResult> RunAsync(BenchStep step)
    {
        await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(step, WireJson.Options));
        await process.StandardInput.FlushAsync();
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException($"The worker stopped during the {step.Kind} step.");
        return JsonSerializer.Deserialize<BenchResult>(line, WireJson.Options)!;
    }

    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}

/// <summary>How busy the whole machine was between its making and <see cref="Read"/>: load averages and the share of all cores' time not idle (/proc/stat).</summary>
public sealed class MachineLoad
{
    private readonly string loadBefore = LoadAverage();
    private readonly (long Busy, long Total) before = CpuTimes();

    public (string LoadBefore, string LoadAfter, double BusyPercent) Read()
    {
        var after = CpuTimes();
        return (loadBefore, LoadAverage(), 100.0 * (after.Busy - before.Busy) / Math.Max(1, after.Total - before.Total));
    }

    private static string LoadAverage() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static (long Busy, long Total) CpuTimes()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = fields[3] + fields[4];
        return (fields.Sum() - idle, fields.Sum());
    }
}
