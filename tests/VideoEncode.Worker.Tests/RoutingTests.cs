using System.Collections;
using VideoEncode.Contracts;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// Routing by capability from the worker's side: what it finds it can run, what it declares, and two
/// workers of different capabilities each getting only the jobs they can run.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RoutingTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-routing-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task AListedHardwareEncoderWhoseTestEncodeFailsIsNotDetected()
    {
        var fake = FakeTools.FfmpegWithEncoders(root, listed: [EncoderCatalog.Libx264, "libx264rgb", "h264_nvenc", "hevc_vaapi", "libx265"],
            working: ["hevc_vaapi"]);
        var detection = new EncoderDetection(new Ffmpeg(fake, "ffprobe", TimeSpan.FromSeconds(60)));

        var (found, problem) = await detection.DetectAsync(CancellationToken.None);

        Assert.Null(problem);
        Assert.Equal([EncoderCatalog.Libx264, "libx265", "hevc_vaapi", ClaimRequest.CopyCapability], found!.Encoders); // in the catalog's order
        var rejected = Assert.Single(found.Rejected);
        Assert.Equal("h264_nvenc", rejected.Name);
        Assert.Contains("Cannot load libcuda.so.1", rejected.Reason);
    }

    [Fact]
    public async Task AnFfmpegWithNoUsableEncoderIsAStartUpProblem()
    {
        var fake = FakeTools.FfmpegWithEncoders(root, listed: ["h264_nvenc", "libx264rgb"], working: []);
        var (found, problem) = await new EncoderDetection(new Ffmpeg(fake, "ffprobe", TimeSpan.FromSeconds(60))).DetectAsync(CancellationToken.None);
        Assert.Null(found);
        Assert.Contains("none of the encoders jobs use", problem);
    }

    [Fact]
    public void EachHardwareFamilyGetsTheTestEncodeItNeeds()
    {
        var vaapi = EncoderDetection.TestEncodeArguments(EncoderCatalog.Find("hevc_vaapi")!);
        Assert.Equal(EncodeArguments.VaapiDevice, After(vaapi, "-vaapi_device"));
        Assert.Equal("format=nv12,hwupload", After(vaapi, "-vf"));
        Assert.Equal("nv12", After(EncoderDetection.TestEncodeArguments(EncoderCatalog.Find("h264_qsv")!), "-pix_fmt"));
        var nvenc = EncoderDetection.TestEncodeArguments(EncoderCatalog.Find("h264_nvenc")!);
        Assert.Equal("h264_nvenc", After(nvenc, "-c:v"));
        Assert.Equal(["-f", "null", "-"], nvenc.TakeLast(3));
        Assert.DoesNotContain("-vf", nvenc);
    }

    [Fact]
    public void CapabilitiesAreDeclaredOnTheCommandLineOrInTheEnvironmentWithCopyAdded()
    {
        var (settings, problem, _) = WorkerSettings.Parse(["--api-key", "k", "--capabilities", "hevc_nvenc, libx264,hevc_nvenc"], new Hashtable());
        Assert.Null(problem);
        Assert.Equal(["hevc_nvenc", EncoderCatalog.Libx264, ClaimRequest.CopyCapability], settings!.DeclaredEncoders);

        var (fromEnvironment, _, _) = WorkerSettings.Parse(["--api-key", "k"], new Hashtable { ["VIDEOENCODE_CAPABILITIES"] = "libsvtav1" });
        Assert.Equal(["libsvtav1", ClaimRequest.CopyCapability], fromEnvironment!.DeclaredEncoders);

        Assert.Null(WorkerSettings.Parse(["--api-key", "k"], new Hashtable()).Settings!.DeclaredEncoders);
        Assert.Contains("'nvenc' is not one", WorkerSettings.Parse(["--api-key", "k", "--capabilities", "libx264,nvenc"], new Hashtable()).Problem);
        Assert.Contains("--capabilities must list", WorkerSettings.Parse(["--api-key", "k", "--capabilities", ","], new Hashtable()).Problem);
    }

    /// <summary>
    /// A worker that declares hevc_nvenc (which this machine has no GPU for) and one that found its
    /// software encoders: the first gets the NVENC job and nothing else (and gives it back, having no GPU), the second the plain job and never the NVENC one.
    /// </summary>
    [Fact]
    public async Task TwoWorkersOfDifferentCapabilitiesEachGetOnlyWhatTheyCanRun()
    {
        using var host = new QueueFactory();
        var server = host.StartOnLoopback();
        var client = host.CreateApiClient();
        var input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        var output = Path.Combine(root, "output");
        await TestMedia.MakeClipAsync(Path.Combine(input, "gpu.mkv"), 1);
        await TestMedia.MakeClipAsync(Path.Combine(input, "cpu.mkv"), 1);
        var gpuJob = (await client.EnqueueAsync(new { file_name = "gpu.mkv", encoder = "hevc_nvenc", crf = 28, priority = 10 }))[0];
        var cpuJob = (await client.EnqueueAsync(QueueCalls.NewJob("cpu.mkv", "30", "ultrafast")))[0];

        using (var cpu = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--name", "cpu")))
        {
            Assert.True(0 == await cpu.WaitForExitAsync(ExitTimeout), cpu.Output);
            Assert.Contains("Encoders: libx264", cpu.Output);
        }
        Assert.Equal((JobStatus.Finished, "cpu"), await StatusAndWorker(client, cpuJob.Id));
        Assert.Equal((JobStatus.Pending, null), await StatusAndWorker(client, gpuJob.Id));

        using (var gpu = WorkerProcess.Start(WorkerProcess.Arguments(server, input, output, "--once", "--name", "gpu", "--capabilities", "hevc_nvenc")))
        {
            Assert.True(0 == await gpu.WaitForExitAsync(ExitTimeout), gpu.Output);
            Assert.Contains("Encoders (--capabilities, not tested): hevc_nvenc, copy.", gpu.Output);
        }
        // There is no NVENC device here: the job ran as asked, and a hardware encoder that would not open
        // gives the job back for another worker, with ffmpeg's reason and the command line.
        var ran = await client.GetJobAsync(gpuJob.Id);
        Assert.Equal((JobStatus.Pending, 1), (ran.Status, ran.Attempts));
        Assert.Contains("ffmpeg could not start hevc_nvenc", ran.Error);
        Assert.Contains("-c:v hevc_nvenc", ran.CommandLine);
    }

    private static async Task<(string, string?)> StatusAndWorker(HttpClient client, long id) =>
        await client.GetJobAsync(id) is var job ? (job.Status, job.Worker) : default;

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];
}
