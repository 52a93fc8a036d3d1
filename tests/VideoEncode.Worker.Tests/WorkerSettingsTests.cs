using System.Collections;
using System.CommandLine;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Tests;

public sealed class WorkerSettingsTests
{
    // An existing folder apart from every default scratch folder (the temp folder holds one of them).
    private static readonly string Input = AppContext.BaseDirectory;

    [Fact]
    public void OptionsAreReadInBothSpellings()
    {
        var (settings, problem, help) = WorkerSettings.Parse(
            ["--server=http://encoder:8080", "--api-key", "k", "--input", Input, "--output=out", "--poll-interval", "0.5", "--concurrency", "3", "--once", "--ffmpeg", "/opt/ff/ffmpeg"],
            new Hashtable());
        Assert.Null(problem);
        Assert.False(help);
        Assert.Equal(new Uri("http://encoder:8080"), settings!.Server);
        Assert.Equal("k", settings.ApiKey);
        Assert.True(settings.ApiKeyOnCommandLine);
        Assert.Equal(Path.GetFullPath("out"), settings.Output);
        Assert.Equal(TimeSpan.FromSeconds(0.5), settings.PollInterval);
        Assert.Equal(3, settings.Concurrency);
        Assert.True(settings.Once);
        Assert.Equal("/opt/ff/ffmpeg", settings.FfmpegPath);
        Assert.Equal("ffprobe", settings.FfprobePath);
    }

    [Fact]
    public void EnvironmentVariablesFillWhatTheCommandLineLeavesOut()
    {
        var environment = new Hashtable
        {
            ["VIDEOENCODE_SERVER"] = "http://from-env:1",
            ["VIDEOENCODE_APIKEY"] = "env-key",
            ["VIDEOENCODE_INPUT"] = Input,
            ["VIDEOENCODE_OUTPUT"] = "/tmp/env-out",
        };
        var (settings, _, _) = WorkerSettings.Parse([], environment);
        Assert.Equal("env-key", settings!.ApiKey);
        Assert.False(settings.ApiKeyOnCommandLine);
        Assert.Equal(new Uri("http://from-env:1"), settings.Server);
        Assert.Equal("/tmp/env-out", settings.Output);
        Assert.Equal(1, settings.Concurrency);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.PollInterval);
        Assert.False(settings.Once);
    }

    [Fact]
    public void TheCommandLineWinsOverTheEnvironment()
    {
        var environment = new Hashtable { ["VIDEOENCODE_APIKEY"] = "env-key", ["VIDEOENCODE_INPUT"] = Input, ["VIDEOENCODE_OUTPUT"] = "/tmp/env-out" };
        var (settings, _, _) = WorkerSettings.Parse(["--api-key", "cli-key", "--output", "/tmp/cli-out"], environment);
        Assert.Equal("cli-key", settings!.ApiKey);
        Assert.Equal("/tmp/cli-out", settings.Output);
    }

    [Fact]
    public void TheKeyFileIsReadWithoutItsLineBreakAndWinsOverTheEnvironment()
    {
        var keyFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(keyFile, "  from-file\r\n");
            var (settings, problem, _) = WorkerSettings.Parse(["--api-key-file", keyFile, "--input", Input, "--output", "o"],
                new Hashtable { ["VIDEOENCODE_APIKEY"] = "env-key" });
            Assert.Null(problem);
            Assert.Equal("from-file", settings!.ApiKey);
            Assert.False(settings.ApiKeyOnCommandLine);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public void AnEmptyOrMissingKeyFileIsAProblem()
    {
        var keyFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(keyFile, " \n");
            Assert.Contains("is empty", WorkerSettings.Parse(["--api-key-file", keyFile, "--input", Input, "--output", "o"], new Hashtable()).Problem);
            File.Delete(keyFile);
            Assert.Contains("cannot read the API key file", WorkerSettings.Parse(["--api-key-file", keyFile, "--input", Input, "--output", "o"], new Hashtable()).Problem);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Theory]
    [InlineData("--nonsense x", "unknown option")]
    [InlineData("stray", "unexpected argument")]
    [InlineData("--api-key", "needs a value")]
    [InlineData("--server ftp://x --api-key k --input IN --output o", "--server")]
    [InlineData("--input IN --output o", "API key")]
    [InlineData("--api-key k --output o", "--output needs --input")]
    [InlineData("--api-key k --input IN", "--input needs --output")]
    [InlineData("--api-key k --input /does/not/exist --output o", "does not exist")]
    [InlineData("--api-key k --input IN --output o --concurrency 0", "--concurrency")]
    [InlineData("--api-key k --input IN --output o --poll-interval soon", "--poll-interval")]
    [InlineData("--api-key k --api-key-file f --input IN --output o", "not both")]
    [InlineData("--api-key k --transfer-limit fast", "--transfer-limit")]
    [InlineData("--api-key k --transfer-limit 0", "--transfer-limit")]
    public void MistakesAreOneLineProblems(string commandLine, string mentioned)
    {
        var args = commandLine.Replace("IN", Input).Split(' ');
        var (settings, problem, _) = WorkerSettings.Parse(args, new Hashtable());
        Assert.Null(settings);
        Assert.Contains(mentioned, problem);
        Assert.DoesNotContain('\n', problem!);
    }

    [Fact]
    public void AWorkerWithoutFoldersTakesOnlyUploadedJobsAndOneWithThemTakesBoth()
    {
        var (storeOnly, problem, _) = WorkerSettings.Parse(["--api-key", "k", "--scratch", "s", "--transfer-limit", "2.5"], new Hashtable());
        Assert.Null(problem);
        Assert.False(storeOnly!.HasSharedFolders);
        Assert.Equal(MediaKinds.Store, storeOnly.Media);
        Assert.Equal(Path.GetFullPath("s"), storeOnly.Scratch);
        Assert.Equal(2_500_000, storeOnly.TransferLimit);

        var (both, _, _) = WorkerSettings.Parse(["--api-key", "k", "--input", Input, "--output", "o"], new Hashtable());
        Assert.Equal(MediaKinds.Any, both!.Media);
        Assert.Null(both.TransferLimit);
    }

    [Fact]
    public void TheDefaultScratchFolderIsTheUsersOwn()
    {
        Assert.Equal("/cache/videoencode-worker/scratch", ScratchWith(new Hashtable { ["XDG_CACHE_HOME"] = "/cache", ["HOME"] = "/home/u" }));
        Assert.Equal("/home/u/.cache/videoencode-worker/scratch", ScratchWith(new Hashtable { ["XDG_CACHE_HOME"] = "relative", ["HOME"] = "/home/u" }));
        Assert.Matches(@"^/tmp/videoencode-scratch-[0-9]+$", ScratchWith(new Hashtable()));

        static string ScratchWith(Hashtable environment) =>
            WorkerSettings.Parse(["--api-key", "k"], environment).Settings!.Scratch;
    }

    [Theory]
    [InlineData("in")]
    [InlineData("in/scratch")]
    [InlineData(".")]                 // above both
    [InlineData("out")]
    [InlineData("out/deep/scratch")]
    [InlineData("link-to-in/scratch")]
    public void AScratchFolderThatOverlapsTheInputOrOutputFolderIsRefused(string scratch)
    {
        var root = Directory.CreateTempSubdirectory("videoencode-overlap-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "in"));
            Directory.CreateSymbolicLink(Path.Combine(root, "link-to-in"), Path.Combine(root, "in"));
            string[] args = ["--api-key", "k", "--input", Path.Combine(root, "in"), "--output", Path.Combine(root, "out")];

            var (settings, problem, _) = WorkerSettings.Parse([.. args, "--scratch", Path.Combine(root, scratch)], new Hashtable());
            Assert.Null(settings);
            Assert.Contains("overlaps the", problem);
            Assert.Contains("pass a --scratch of its own", problem);

            Assert.Null(WorkerSettings.Parse([.. args, "--scratch", Path.Combine(root, "scratch")], new Hashtable()).Problem);
            Assert.Null(WorkerSettings.Parse([.. args, "--scratch", Path.Combine(root, "input-scratch")], new Hashtable()).Problem);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void HelpIsHelp() => Assert.True(WorkerSettings.Parse(["--api-key", "k", "--help"], new Hashtable()).Help);

    [Fact]
    public void HelpListsEveryOptionWithTheVariableItFallsBackTo()
    {
        var command = new WorkerCommand();
        var printed = new StringWriter();

        Assert.Equal(0, command.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = printed }));

        var help = printed.ToString();
        Assert.All(command.Root.Options, option => Assert.Contains(option.Name, help));
        foreach (var (option, variable) in new[]
                 {
                     ("--server", "VIDEOENCODE_SERVER"), ("--api-key", "VIDEOENCODE_APIKEY"), ("--input", "VIDEOENCODE_INPUT"),
                     ("--output", "VIDEOENCODE_OUTPUT"), ("--scratch", "VIDEOENCODE_SCRATCH"), ("--capabilities", "VIDEOENCODE_CAPABILITIES"),
                 })
            Assert.Matches($@"(?m)^\s+{option} <\w+>\s.*\[env: {variable}\]", help);
        Assert.Matches(@"(?m)^\s+--concurrency <n>\s.*\[default: 1\]", help);
    }

    [Fact]
    public void AnArgumentStartingWithAnAtSignIsAValueNotAFileOfArguments()
    {
        var (settings, problem, _) = WorkerSettings.Parse(["--api-key", "k", "--name", "@encoder"], new Hashtable());
        Assert.Null(problem);
        Assert.Equal("@encoder", settings!.Name);
    }
}
