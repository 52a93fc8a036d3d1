using System.Diagnostics;

namespace VideoEncode.Testing;

/// <summary>One of the host's command-line tools (migrate, keys, …) run as a real process, its exit code and output captured.</summary>
public static class HostCommand
{
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Api.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);

        using var command = Process.Start(start)!;
        var stdout = command.StandardOutput.ReadToEndAsync();
        var stderr = command.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await command.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Left running it could hold the test's database open for the tests after it.
            command.Kill(entireProcessTree: true);
            throw;
        }
        return (command.ExitCode, await stdout, await stderr);
    }
}
