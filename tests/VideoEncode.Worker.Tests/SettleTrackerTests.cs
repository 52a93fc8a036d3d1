using VideoEncode.Worker.Watching;

namespace VideoEncode.Worker.Tests;

public sealed class SettleTrackerTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);
    private readonly ManualClock clock = new();
    private readonly SettleTracker tracker;

    public SettleTrackerTests() => tracker = new SettleTracker(Settle, clock);

    [Fact]
    public void AFileSettlesOnlyOnceItsSizeAndMtimeStayedTheSameForTheSettleTime()
    {
        tracker.Saw(new FoundFile("/w/a.mkv", 100, 1));
        clock.Advance(TimeSpan.FromSeconds(9));
        tracker.Saw(new FoundFile("/w/a.mkv", 200, 2));   // still growing: the wait starts again
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(tracker.Settled());

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new FoundFile("/w/a.mkv", 200, 2), Assert.Single(tracker.Settled()));
    }

    [Fact]
    public void AHandledFileComesBackOnlyWhenItChanges()
    {
        var file = new FoundFile("/w/a.mkv", 100, 1);
        tracker.Saw(file);
        tracker.Handled(file);
        tracker.Saw(file);
        Assert.Empty(tracker.Waiting);

        tracker.Saw(file with { Mtime = 2 });
        Assert.Single(tracker.Waiting);
    }

    [Fact]
    public void AFileThatDisappearsIsForgotten()
    {
        tracker.Saw(new FoundFile("/w/a.mkv", 100, 1));
        tracker.Gone("/w/a.mkv");
        clock.Advance(Settle);
        Assert.Empty(tracker.Settled());
    }

    [Theory]
    [InlineData("a.mkv", true)]
    [InlineData("A.MP4", true)]
    [InlineData("clip.m2ts", true)]
    [InlineData(".a.mkv", false)]
    [InlineData("a.mkv.part", false)]
    [InlineData("a.mkv~", false)]
    [InlineData("a.tmp", false)]
    [InlineData("notes.txt", false)]
    public void VideosAreToldByExtensionAndHiddenNamesSkipped(string name, bool video) =>
        Assert.Equal(video, VideoFiles.IsVideo(name));
}
