using System.Diagnostics;

namespace VideoEncode.Api.Tests;

/// <summary>Runs the real host executable, as a user would.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task TheHostRefusesToStartWithoutAKeyAndSaysHowToSetOne()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VideoEncode.Api.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment.Remove("VIDEOENCODE_APIKEY");
        start.Environment["VIDEOENCODE_DATABASE"] = QueueFactory.NewDatabasePath();

        using var host = Process.Start(start)!;
        var stderr = host.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, host.ExitCode);
        Assert.Contains("VIDEOENCODE_APIKEY", await stderr);
    }
}
