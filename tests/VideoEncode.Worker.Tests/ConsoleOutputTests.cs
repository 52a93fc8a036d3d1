using Microsoft.Extensions.Time.Testing;
using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

public sealed class ConsoleOutputTests
{
    [Fact]
    public async Task RedirectedOutputGetsAProgressLineForEachRunningEncodeEveryTenSeconds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.Utc);
        var printed = new StringWriter();
        var console = new ConsoleOutput(printed, live: false, time);
        var progress = new EncodeProgress(TimeSpan.FromSeconds(5), 50, 30, 2, TimeSpan.FromSeconds(3));
        console.Started(7, "clip.mkv");
        console.Progress(7, progress);

        time.Advance(TimeSpan.FromSeconds(9.9));
        await Task.Delay(100);
        Assert.Equal("", printed.ToString());

        time.Advance(TimeSpan.FromSeconds(0.1));
        await Eventually.TrueAsync(() => printed.ToString().Length > 0, () => "no progress line");
        Assert.Equal($"03:04:15 {ConsoleOutput.Describe(7, "clip.mkv", progress)}", printed.ToString().TrimEnd());

        console.Ended(7);
        time.Advance(TimeSpan.FromSeconds(10));
        await console.DisposeAsync();
        Assert.Single(printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
