using VideoEncode.Contracts;
using VideoEncode.Worker.Media;
using VideoEncode.Worker.Tasks;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// A split encode done by the four works in this process, with real ffmpeg on small clips: a 24-second 320x180 clip
/// with B-frames and a keyframe every 10 s, planned in 10-second chunks, each chunk, the audio and the join run as a
/// worker would run them (the join fetching the parts the others wrote), and the same encode done whole beside it.
/// The fixture encodes once; the tests read what it made.
/// </summary>
public sealed class SplitEncodeTests(SplitEncodeTests.Split split) : IClassFixture<SplitEncodeTests.Split>
{
    private static readonly EncodeSettings Settings = EncodeSettings.Defaults with { Crf = "23", Preset = "veryfast", MinSsim = 0.9 };

    [Fact]
    public void ThePlanCutsTheClipAtItsKeyframesWithEveryFrameInOneChunk()
    {
        Assert.Equal([new ChunkCut(0, 10, 250), new ChunkCut(10, 20, 250), new ChunkCut(20, 24, 100)], split.Plan.Chunks);
        Assert.Equal(Path.Combine(split.Folder, "plan", PlanWork.PlanFile), split.Clip.Plan.Result);
    }

    [Fact]
    public async Task TheJoinedFileHasTheInputsFramesAndLengthAndLooksLikeTheWholeEncode()
    {
        var joined = await split.Ffmpeg.ListVideoPacketsAsync(split.Clip.Joined.Result, _ => { }, CancellationToken.None);
        var input = await split.Ffmpeg.ListVideoPacketsAsync(split.Input, _ => { }, CancellationToken.None);
        Assert.Equal(600, joined.Packets!.Packets.Count);
        Assert.Equal(input.Packets!.Packets.Count, joined.Packets.Packets.Count);
        var (joinedSpan, inputSpan) = (Span(joined.Packets), Span(input.Packets));
        Assert.InRange(joinedSpan, inputSpan - 0.04, inputSpan + 0.04);

        var probed = await split.Ffmpeg.ProbeAsync(split.Clip.Joined.Result, CancellationToken.None);
        Assert.Equal(["video h264", "audio aac"], probed.Streams.Select(stream => $"{stream.Kind} {stream.Codec}"));
        Assert.Equal("output.mp4", Path.GetFileName(split.Clip.Joined.Result));

        var lines = new List<string>();
        var arguments = QualityMeasure.Arguments(split.Clip.Joined.Result, probed, split.Whole, new Segment(0, null), ssim: true, psnr: false);
        var outcome = await split.Ffmpeg.EncodeAsync(arguments, 24, _ => { }, CancellationToken.None, lines.Add);
        Assert.True(outcome.Succeeded, outcome.LogTail);
        Assert.InRange(QualityMeasure.Read(lines).Ssim!.Value, 0.99, 1);
    }

    [Fact]
    public void TheJoinsFinishSaysWhatItMadeAndWhatTheGateMeasured()
    {
        var finish = split.Clip.Joined.Finish;
        Assert.Equal((JobResults.Encoded, "h264", 180), (finish.Result, finish.Codec, finish.Height));
        Assert.Equal(new FileInfo(split.Clip.Joined.Result).Length, finish.OutputBytes);
        Assert.Equal(new FileInfo(split.Input).Length, finish.InputBytes);
        Assert.InRange(finish.Ssim!.Value, 0.9, 1);
        Assert.Contains("-f concat", finish.CommandLine);
        Assert.All(split.Clip.Chunks, chunk => Assert.Contains("-frames:v", chunk.Finish.CommandLine));
        Assert.Equal("audio.mp4", Path.GetFileName(split.Clip.Audio.Result));
    }

    [Fact]
    public async Task AChunkThatComesOutWithTheWrongFrameCountIsRetriedSayingBothCounts()
    {
        var last = split.Plan.Chunks[^1];
        var result = await new ChunkWork().RunAsync(split.Context("short",
            new JobTask { Kind = TaskKinds.Chunk, StartSeconds = last.StartSeconds, EndSeconds = last.EndSeconds, Frames = last.Frames + 1 }), CancellationToken.None);

        var failed = Assert.IsType<TaskWorkResult.Failed>(result);
        Assert.True(failed.Failure.Retryable);
        Assert.Equal("The chunk from 20 s to 24 s came out with 100 frames where the input has 101 there; it would not join frame-exact", failed.Failure.Error);
    }

    [Fact]
    public async Task EveryTrackChapterTagAndFontOfAnInputIsKeptThroughASplitEncode()
    {
        var input = Path.Combine(split.Folder, "many-tracks.mkv");
        await TestMedia.MakeManyTracksClipAsync(input);
        var settings = Settings with { Container = Containers.Mkv, Audio = AudioCodecs.Copy };
        var joined = (await split.RunAsync("many", input, settings)).Joined;

        var probed = await split.Ffmpeg.ProbeAsync(joined.Result, CancellationToken.None);
        var original = await split.Ffmpeg.ProbeAsync(input, CancellationToken.None);
        Assert.Equal(Tracks(original), Tracks(probed));
        Assert.Equal((1, 3, "Many tracks"), (probed.Attachments, probed.Chapters, probed.Title));
    }

    [Fact]
    public async Task AnInputWithoutAudioIsJoinedWithItsTagsFromAMetadataFile()
    {
        var input = Path.Combine(split.Folder, "silent.mp4");
        await TestMedia.MakeClipAsync(input, 2, size: "160x90", audio: false);
        var joined = (await split.RunAsync("silent", input, Settings)).Joined;

        var probed = await split.Ffmpeg.ProbeAsync(joined.Result, CancellationToken.None);
        Assert.Equal(["video"], probed.Streams.Select(stream => stream.Kind));
        Assert.True(File.Exists(Path.Combine(split.Folder, "silent-audio", SplitArguments.MetadataFile)));
    }

    [Fact]
    public async Task AnInputWhoseClockStartsLateIsCutWhereItsKeyframesAreAndJoinedFrameExact()
    {
        // MPEG-TS starts its clock at 1.4 s, not 0; a keyframe every second, B-frames between.
        var input = Path.Combine(split.Folder, "late.ts");
        await TestMedia.GenerateAsync(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=6",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=6", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac", "-shortest", input]);
        var run = await split.RunAsync("late", input, Settings, splitSeconds: 2);

        // Times count from the file's start, the earliest stream's (the audio's, a little before the video's first frame).
        var starts = run.Plan.Finish.Plan!.Chunks.Select(chunk => chunk.StartSeconds).ToList();
        Assert.InRange(starts[0], 0.001, 0.1);
        Assert.Equal([0.0, 2, 4], starts.Select(start => Math.Round(start - starts[0], 6)));
        var frames = await split.Ffmpeg.ListVideoPacketsAsync(run.Joined.Result, _ => { }, CancellationToken.None);
        Assert.Equal(150, frames.Packets!.Packets.Count);
    }

    [Fact]
    public async Task AJoinedFileNotSmallerThanTheInputIsReportedAsKeepingTheOriginalWhenTheJobSkipsLargerOnes()
    {
        var input = Path.Combine(split.Folder, "small.mp4");
        await TestMedia.MakeClipAsync(input, 2, size: "160x90");
        var joined = (await split.RunAsync("small", input, Settings with { Crf = "1", SkipIfLarger = true })).Joined;

        Assert.Equal(JobResults.KeptOriginal, joined.Finish.Result);
        Assert.True(joined.Finish.OutputBytes >= joined.Finish.InputBytes);
        Assert.Null(joined.Finish.Ssim);
    }

    private static double Span(PacketList list) => SplitPlanner.Span([.. list.Packets.Select(packet => (packet.Pts, packet.Key))]).Seconds;

    private static IEnumerable<string> Tracks(ProbeResult probed) => probed.Streams.Where(stream => stream.Kind is "audio" or "subtitle")
        .Select(stream => $"{stream.Kind} {stream.Codec} {stream.Language} {stream.Title} {stream.Default} {stream.Forced}");

    /// <summary>What each task of one split encode finished with.</summary>
    public sealed record Run(TaskWorkResult.Done Plan, IReadOnlyList<TaskWorkResult.Done> Chunks, TaskWorkResult.Done Audio, TaskWorkResult.Done Joined);

    /// <summary>The clip, its plan, its chunks, audio and join, and the same encode done whole.</summary>
    public sealed class Split : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("videoencode-split-").FullName;
        public Ffmpeg Ffmpeg { get; } = new("ffmpeg", "ffprobe", TimeSpan.FromSeconds(120));
        public string Input => Path.Combine(Folder, "clip.mp4");
        public string Whole => Path.Combine(Folder, "whole.mp4");
        public Run Clip { get; private set; } = null!;
        public SplitPlan Plan => Clip.Plan.Finish.Plan!;
        private ProbeResult probed = null!;

        public async Task InitializeAsync()
        {
            // x264's veryfast makes B-frames, so packets come out of order; its keyframes are 250 frames apart.
            await TestMedia.GenerateAsync([
                "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=24", "-f", "lavfi", "-i", "sine=frequency=440:duration=24",
                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-shortest", Input]);
            probed = await Ffmpeg.ProbeAsync(Input, CancellationToken.None);
            var whole = await Ffmpeg.EncodeAsync(EncodeArguments.Build(Input, Whole, Settings, probed), 24, _ => { }, CancellationToken.None);
            Assert.True(whole.Succeeded, whole.LogTail);
            Clip = await RunAllAsync("", Input, probed, Settings);
        }

        /// <summary>A split encode of another input, start to end.</summary>
        public async Task<Run> RunAsync(string name, string input, EncodeSettings settings, int splitSeconds = 10) =>
            await RunAllAsync(name + "-", input, await Ffmpeg.ProbeAsync(input, CancellationToken.None), settings, splitSeconds);

        /// <summary>A task of the clip's split encode, in a fresh work folder of its own.</summary>
        public TaskContext Context(string folder, JobTask task) => Context(folder, Input, probed, Settings, task);


        private async Task<Run> RunAllAsync(
            string prefix, string input, ProbeResult inputProbe, EncodeSettings settings, int splitSeconds = 10)
        {
            TaskContext For(string folder, JobTask task) => Context(prefix + folder, input, inputProbe, settings, task);
            var plan = Done(await new PlanWork().RunAsync(For("plan", new JobTask { Kind = TaskKinds.Plan, SplitSeconds = splitSeconds }), CancellationToken.None));
            var parts = new List<TaskPart>();
            var results = new Dictionary<long, string>();
            var chunks = new List<TaskWorkResult.Done>();
            foreach (var (cut, index) in plan.Finish.Plan!.Chunks.Select((cut, index) => (cut, index)))
            {
                var chunk = Done(await new ChunkWork().RunAsync(For($"chunk{index}",
                    new JobTask { Kind = TaskKinds.Chunk, StartSeconds = cut.StartSeconds, EndSeconds = cut.EndSeconds, Frames = cut.Frames }), CancellationToken.None));
                chunks.Add(chunk);
                parts.Add(new TaskPart(index + 1, TaskKinds.Chunk, $"chunk{index}", null, cut.Frames));
                results[index + 1] = chunk.Result;
            }
            var audio = Done(await new AudioWork().RunAsync(For("audio", new JobTask { Kind = TaskKinds.Audio }), CancellationToken.None));
            parts.Add(new TaskPart(100, TaskKinds.Audio, "audio", null, null));
            results[100] = audio.Result;
            var joined = Done(await new JoinWork().RunAsync(For("join", new JobTask { Kind = TaskKinds.Join, Parts = parts }) with
            {
                FetchPart = (part, _) => Task.FromResult(results[part.TaskId]),
            }, CancellationToken.None));
            return new Run(plan, chunks, audio, joined);
        }

        private TaskContext Context(string folder, string input, ProbeResult inputProbe, EncodeSettings settings, JobTask task) => new(
            new Job { Id = 1, FileName = Path.GetFileName(input), Settings = settings }, task, input, inputProbe,
            Directory.CreateDirectory(Path.Combine(Folder, folder)).FullName, Ffmpeg, TimeSpan.FromSeconds(120), _ => { },
            (_, _) => throw new InvalidOperationException("Only a join fetches parts."));

        private static TaskWorkResult.Done Done(TaskWorkResult result) => result as TaskWorkResult.Done
            ?? throw new InvalidOperationException($"The task did not finish: {result}");

        public Task DisposeAsync()
        {
            Directory.Delete(Folder, recursive: true);
            return Task.CompletedTask;
        }
    }
}
