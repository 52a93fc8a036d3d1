using System.Diagnostics;

namespace VideoEncode.Testing;

/// <summary>The host run as a real process on a fixed loopback port, so a test can kill -9 it and start it again.</summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process process;
    private readonly CapturedOutput output;

    private HostProcess(Process process)
    {
        this.process = process;
        output = new CapturedOutput(process);
    }

    public static async Task<HostProcess> StartAsync(Uri address, string databasePath, params (string Name, string Value)[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Api.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString().TrimEnd('/'));
        start.Environment["VIDEOENCODE_APIKEY"] = QueueFactory.ApiKey;
        start.Environment["VIDEOENCODE_DATABASE"] = databasePath;
        start.Environment["VIDEOENCODE_MEDIA"] = TestStore.MediaFolder(databasePath);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in settings) start.Environment["VIDEOENCODE_" + name] = value;
        var host = new HostProcess(Process.Start(start)!);

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return host;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (host.process.HasExited || DateTime.UtcNow > deadline)
            {
                // A host that refused to start has exited; without a timeout, WaitForExit also waits until its
                // output has been read to the end, so the refusal is in the message (it raced the reader before).
                if (host.process.HasExited) host.process.WaitForExit();
                throw new InvalidOperationException($"The host did not start. Its output:\n{host.Output}");
            }
            await Task.Delay(100);
        }
    }

    public int Id => process.Id;

    public string Output => output.ToString();

    /// <summary>kill -9: no shutdown, no flush; only what the database committed survives.</summary>
    public void KillHard()
    {
        process.Kill(entireProcessTree: false);
        process.WaitForExit();
    }

    private bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
