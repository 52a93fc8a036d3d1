using System.Diagnostics;

namespace VideoEncode.Testing;

/// <summary>The worker console run as a real process, as a user runs it, with its output captured.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly CapturedOutput output;

    private WorkerProcess(Process process)
    {
        this.process = process;
        output = new CapturedOutput(process);
    }

    /// <summary>Starts a worker that finds the test host's key in VIDEOENCODE_APIKEY, as a key never goes on a command line.</summary>
    public static WorkerProcess Start(params string[] args) =>
        Start(new Dictionary<string, string> { ["VIDEOENCODE_APIKEY"] = QueueFactory.ApiKey }, args);

    /// <summary>Starts a worker with exactly these VIDEOENCODE_* variables set.</summary>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Worker.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var name in new[] { "VIDEOENCODE_SERVER", "VIDEOENCODE_APIKEY", "VIDEOENCODE_INPUT", "VIDEOENCODE_OUTPUT" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return new WorkerProcess(Process.Start(start)!);
    }

    /// <summary>The arguments of a worker for this host and these folders, plus any extra ones (the key travels in the environment).</summary>
    public static string[] Arguments(Uri server, string input, string output, params string[] extra) =>
        ["--server", server.ToString(), "--input", input, "--output", output, "--poll-interval", "0.2", .. extra];

    public int Id => process.Id;

    public string Output => output.ToString();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The worker did not exit within {timeout}. Its output:\n{Output}");
        }
        process.WaitForExit(); // drains the redirected output
        return process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (TERM stands in for Ctrl-C: a background process ignores SIGINT).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, process.Id.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>kill -9: no chance to clean up.</summary>
    public void KillHard() => process.Kill(entireProcessTree: false);

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
