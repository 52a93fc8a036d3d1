using VideoEncode.Worker.Media;

namespace VideoEncode.Worker.Tests;

public sealed class ProgressParserTests
{
    [Fact]
    public void OneUpdatePerProgressBlockWithPercentSpeedAndEta()
    {
        var parser = new ProgressParser(inputSeconds: 10);
        var block = new[] { "frame=75", "fps=30.5", "out_time_us=2500000", "out_time_ms=2500000", "out_time=00:00:02.500000", "speed=2.5x" };
        Assert.All(block, line => Assert.Null(parser.Read(line)));

        var update = parser.Read("progress=continue");

        Assert.NotNull(update);
        Assert.Equal(TimeSpan.FromSeconds(2.5), update.Position);
        Assert.Equal(25, update.Percent);
        Assert.Equal(30.5, update.Fps);
        Assert.Equal(75, update.Frames);
        Assert.Equal(2.5, update.Speed);
        Assert.Equal(TimeSpan.FromSeconds(3), update.Eta);
    }

    [Fact]
    public void TheEndIsAHundredPercent()
    {
        var parser = new ProgressParser(inputSeconds: 10);
        parser.Read("out_time_us=9960000");
        var update = parser.Read("progress=end");
        Assert.Equal(100, update!.Percent);
        Assert.Equal(TimeSpan.Zero, update.Eta);
    }

    [Fact]
    public void WithoutADurationThereIsNoPercentOrEta()
    {
        var parser = new ProgressParser(inputSeconds: null);
        parser.Read("out_time_us=1000000");
        parser.Read("speed=N/A");
        var update = parser.Read("progress=continue");
        Assert.Equal(TimeSpan.FromSeconds(1), update!.Position);
        Assert.Null(update.Percent);
        Assert.Null(update.Eta);
        Assert.Null(update.Speed);
    }

    [Fact]
    public void ASpeedNearZeroGivesNoEtaRatherThanAnOverflow()
    {
        var parser = new ProgressParser(inputSeconds: 3600);
        parser.Read("speed=1e-12x");
        var update = parser.Read("progress=continue");
        Assert.Null(update!.Eta);
        Assert.Equal(1e-12, update.Speed);
    }

    [Fact]
    public void NonsenseLinesAreIgnored()
    {
        var parser = new ProgressParser(inputSeconds: 10);
        foreach (var line in new[] { "", "=", "garbage", "out_time_us=N/A", "out_time_us=-9223372036854775807", "fps=abc" })
            Assert.Null(parser.Read(line));
        Assert.Equal(0, parser.Read("progress=continue")!.Percent);
    }
}
