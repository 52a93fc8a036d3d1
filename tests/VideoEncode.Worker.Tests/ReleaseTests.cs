using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

/// <summary>
/// The linux-x64 release as a person installs it: scripts/release.sh builds it (this platform only), its archive
/// is checked against SHA256SUMS and unpacked into a temporary folder, and its host and worker run from there with
/// no .NET on their PATH and no DOTNET_ROOT: both print the release's version, and they encode a clip end to end
/// through a shared folder; its install.sh installs under a prefix and systemd-analyze verify accepts its units.
/// One of the slowest tests of the suite (a Release publish of both programs), so it starts first; the trait
/// Category=Release lets a person run it alone (dotnet test --filter Category=Release).
/// </summary>
[Trait("Category", "Release")]
[RunsLong]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseTests : IDisposable
{
    private const string Version = "9.8.7-test";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string root = Directory.CreateTempSubdirectory("videoencode-release-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task TheLinuxReleaseRunsWithoutDotnetAndEncodesAClipEndToEnd()
    {
        var dist = Path.Combine(root, "dist");
        var built = await RunAsync(Path.Combine(RepositoryRoot(), "scripts", "release.sh"), [Version, "linux-x64"], RepositoryRoot(),
            new() { ["RELEASE_OUT"] = dist }, Patience);
        Assert.True(built.Exit == 0, built.Output);
        var archive = $"videoencode-{Version}-linux-x64.tar.gz";
        Assert.Equal(0, (await RunAsync("sha256sum", ["--check", "--strict", "SHA256SUMS"], dist, [], Patience)).Exit);
        Assert.Equal(0, (await RunAsync("tar", ["-xzf", Path.Combine(dist, archive), "-C", root], root, [], Patience)).Exit);
        var release = Path.Combine(root, $"videoencode-{Version}-linux-x64");
        foreach (var file in new[] { "videoencode-host", "videoencode-worker", "pages/index.html", "schema.sql", "schema.postgres.sql", "LICENSE",
                     "INSTALL.md", "install.sh", "systemd/videoencode-host.service", "systemd/videoencode-worker@.service" })
            Assert.True(File.Exists(Path.Combine(release, file)), $"{file} is missing from {archive}");

        // install.sh puts it in place under a prefix, its units pointing there; systemd-analyze, where installed, accepts them.
        var prefix = Path.Combine(root, "prefix");
        var installed = await RunAsync(Path.Combine(release, "install.sh"), ["--prefix", prefix], root, [], Patience);
        Assert.True(installed.Exit == 0, installed.Output);
        var units = Path.Combine(prefix, "lib", "systemd", "system");
        Assert.Contains($"ExecStart={prefix}/lib/videoencode/videoencode-host", File.ReadAllText(Path.Combine(units, "videoencode-host.service")));
        if (File.Exists("/usr/bin/systemd-analyze"))
        {
            // A template is verified as one of its instances.
            File.Copy(Path.Combine(units, "videoencode-worker@.service"), Path.Combine(units, "videoencode-worker@box1.service"));
            var verified = await RunAsync("/usr/bin/systemd-analyze", ["verify", "./videoencode-host.service", "./videoencode-worker@box1.service"], units, [], Patience);
            Assert.True(verified.Exit == 0 && verified.Output.Trim().Length == 0, verified.Output);
        }

        // A PATH of ffmpeg and ffprobe alone: no dotnet to fall back on.
        var bin = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
        foreach (var tool in new[] { "ffmpeg", "ffprobe" }) File.CreateSymbolicLink(Path.Combine(bin, tool), Which(tool));
        var host = Path.Combine(release, "videoencode-host");
        var worker = Path.Combine(release, "videoencode-worker");
        Assert.Equal($"videoencode-host {Version} (protocol {Versions.Protocol})", (await RunAsync(host, ["--version"], root, Bare(bin), Patience)).Output.Trim());
        Assert.Equal($"videoencode-worker {Version} (protocol {Versions.Protocol})", (await RunAsync(worker, ["--version"], root, Bare(bin), Patience)).Output.Trim());

        var input = Directory.CreateDirectory(Path.Combine(root, "input")).FullName;
        var output = Directory.CreateDirectory(Path.Combine(root, "output")).FullName;
        await TestMedia.MakeClipAsync(Path.Combine(input, "clip.mkv"), 1);
        var address = new Uri($"http://127.0.0.1:{FreePort.Find()}");
        var state = Directory.CreateDirectory(Path.Combine(root, "state")).FullName;
        using var hostProcess = Start(host, ["--urls", address.ToString().TrimEnd('/')], state,
            Bare(bin, ("VIDEOENCODE_APIKEY", QueueFactory.ApiKey), ("VIDEOENCODE_DATABASE", Path.Combine(state, "queue.db"))));
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        VersionInfo? served = null;
        await Eventually.TrueAsync(async () =>
        {
            try { served = await client.GetFromJsonAsync<VersionInfo>("/api/version", WireJson.Options); }
            catch (HttpRequestException) when (!hostProcess.Process.HasExited) { }
            return served is not null;
        }, () => hostProcess.Output, Patience);
        Assert.Equal((Version, Versions.Protocol), (served!.Version, served.Protocol));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode); // the pages, from beside the host

        var job = (await client.EnqueueAsync(QueueCalls.NewJob("clip.mkv", crf: "35", preset: "ultrafast")))[0];
        var encoded = await RunAsync(worker, ["--server", address.ToString(), "--input", input, "--output", output, "--once", "--name", "released",
                "--capabilities", EncoderCatalog.Libx264, "--scratch", Path.Combine(root, "scratch")], root,
            Bare(bin, ("VIDEOENCODE_APIKEY", QueueFactory.ApiKey)), Patience);
        Assert.True(encoded.Exit == 0, encoded.Output);
        Assert.Contains($"videoencode-worker {Version}", encoded.Output);
        var finished = await client.GetJobAsync(job.Id);
        Assert.Equal(JobStatus.Finished, finished.Status);
        Assert.True(finished.OutputBytes > 0);
        var workers = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/workers", WireJson.Options);
        Assert.Equal(Version, workers[0].GetProperty("version").GetString());
    }

    /// <summary>The environment of a machine without .NET: PATH only <paramref name="bin"/>, no DOTNET_* variable.</summary>
    private static Dictionary<string, string?> Bare(string bin, params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string?> { ["PATH"] = bin };
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (name.StartsWith("DOTNET_", StringComparison.Ordinal) || name.StartsWith("VIDEOENCODE_", StringComparison.Ordinal) || name.StartsWith("OTEL_", StringComparison.Ordinal))
                environment[name] = null;
        foreach (var (name, value) in settings) environment[name] = value;
        return environment;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "scripts", "release.sh"))) return folder.FullName;
        throw new InvalidOperationException("scripts/release.sh not found above the test's folder.");
    }

    private static string Which(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(folder => Path.Combine(folder, tool)).First(File.Exists);

    private sealed class Running(Process process) : IDisposable
    {
        private readonly StringBuilder text = new();

        public Process Process { get; } = process;

        public string Output
        {
            get { lock (text) return text.ToString(); }
        }

        public Running Capture()
        {
            Process.OutputDataReceived += (_, line) => { lock (text) text.AppendLine(line.Data); };
            Process.ErrorDataReceived += (_, line) => { lock (text) text.AppendLine(line.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
            return this;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    private static Running Start(string program, IEnumerable<string> args, string folder, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        return new Running(Process.Start(start)!).Capture();
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, string folder,
        Dictionary<string, string?> environment, TimeSpan timeout)
    {
        using var running = Start(program, args, folder, environment);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await running.Process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{program} did not exit within {timeout}. Its output:\n{running.Output}");
        }
        running.Process.WaitForExit();
        return (running.Process.ExitCode, running.Output);
    }
}
