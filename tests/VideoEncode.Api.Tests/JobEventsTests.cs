using System.Text;
using System.Text.Json;
using VideoEncode.Api.Changes;
using VideoEncode.Api.Events;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>The event stream's feed in memory: each stream's bound, the reset rule, replay. No store involved.</summary>
[Trait("Store", TestStore.RunOnce)]
public sealed class JobEventsTests
{
    private readonly JobEvents events = new(TimeProvider.System);

    private static ChangeNotice Updated(int n) => new("updated", $$"""{"id":{{n}}}""", JobState.InProgress, JobState.InProgress, ChangeCause.CancelRequest);

    private static ChangeNotice Progress(int n) => new("progress", $$"""{"id":{{n}}}""", JobState.InProgress, JobState.InProgress, ChangeCause.Heartbeat);

    private static string Text(JobEvent item) => Encoding.UTF8.GetString(item.Sse.Span);

    private static List<JobEvent> TakeAll(JobEvents.Subscription feed)
    {
        var batch = new List<JobEvent>();
        Assert.Null(feed.Live.TakeAll(ref batch));
        return batch;
    }

    [Fact]
    public void AReaderThatStopsReadingIsDroppedWithAResetUnderTheNewestIdAndWhatItHeldIsLetGo()
    {
        using var stalled = events.Subscribe(null);
        using var reading = events.Subscribe(null);
        for (var n = 0; n < StreamQueue.Capacity; n++) events.Publish(null, Updated(n));
        TakeAll(reading);
        Assert.Equal((2, StreamQueue.Capacity), (events.SubscriberCount, stalled.Live.Count));

        events.Publish(null, Updated(StreamQueue.Capacity)); // one change of status more than its queue holds
        using var probe = events.Subscribe(null);
        var newest = probe.CurrentId;

        Assert.Equal(2, events.SubscriberCount); // the reader that keeps up, and the probe
        Assert.Equal(0, stalled.Live.Count);
        var batch = new List<JobEvent>();
        var reset = stalled.Live.TakeAll(ref batch);
        Assert.NotNull(reset);
        Assert.Equal($"id: {newest}\nevent: reset\ndata: {{}}\n\n", Text(reset));
        Assert.Empty(batch);
        Assert.Equal([newest], TakeAll(reading).Select(e => e.Id));

        // A dropped reader resumes from the reset's id and misses nothing after it.
        events.Publish(null, Updated(-1));
        using var resumed = events.Subscribe(reset.Id);
        Assert.False(resumed.Missed);
        var after = Assert.Single(resumed.TakeReplay());
        Assert.Equal((newest + 1, "updated"), (after.Id, after.Type));
        Assert.Empty(resumed.TakeReplay()); // let go once written: a stream lives long after its replay
    }

    [Fact]
    public void ProgressFillsOnlyHalfAQueueAndNeverDropsAReaderWhileChangesOfStatusKeepTheRest()
    {
        using var stalled = events.Subscribe(null);
        for (var n = 0; n < StreamQueue.Capacity * 3; n++) events.PublishTransient(Progress(n));
        Assert.Equal((1, StreamQueue.ProgressRoom), (events.SubscriberCount, stalled.Live.Count));

        for (var n = 0; n < StreamQueue.Capacity - StreamQueue.ProgressRoom; n++) events.Publish(null, Updated(n));
        Assert.Equal((1, StreamQueue.Capacity), (events.SubscriberCount, stalled.Live.Count));

        events.PublishTransient(Progress(-1)); // skipped: a full queue and only progress
        Assert.Equal(1, events.SubscriberCount);
        events.Publish(null, Updated(-1));
        Assert.Equal(0, events.SubscriberCount);
    }

    [Fact]
    public void ProgressHasNoIdAndIsNotReplayedOnResume()
    {
        events.Publish(null, Updated(1));
        using var first = events.Subscribe(null);
        var seen = first.CurrentId;
        events.PublishTransient(Progress(1));
        events.Publish(null, Updated(2));
        events.PublishTransient(Progress(2));

        var live = TakeAll(first);
        Assert.Equal(["progress", "updated", "progress"], live.Select(e => e.Type));
        Assert.Equal([JobEvent.NoId, seen + 1, JobEvent.NoId], live.Select(e => e.Id));
        Assert.StartsWith("event: progress\n", Text(live[0]), StringComparison.Ordinal);

        using var resumed = events.Subscribe(seen);
        Assert.False(resumed.Missed);
        Assert.Equal(["updated"], resumed.TakeReplay().Select(e => e.Type));
    }

    [Fact]
    public void AReplayedChangeIsTheBytesALiveReaderGotOrTheJobAsItWasWhenNobodyListened()
    {
        var job = new Job { Id = 42, FileName = "a.mkv", Status = JobStatus.InProgress, ClaimToken = "secret", Worker = "w1" };
        long beforeAll;
        using (var probe = events.Subscribe(null)) beforeAll = probe.CurrentId;
        events.Publish(null, ChangeNotice.Of(JobChange.Moved(JobState.Pending, job, ChangeCause.Claim)));
        using (var live = events.Subscribe(null))
        {
            events.Publish(null, ChangeNotice.Of(JobChange.Same(job with { Progress = 10 }, ChangeCause.CancelRequest)));
            var written = TakeAll(live).Single().Sse.ToArray();

            using var resumed = events.Subscribe(live.CurrentId);
            Assert.Equal(written, resumed.TakeReplay().Single().Sse.ToArray());
        }

        // The claim was published while nobody listened: it is serialised on replay, as the job was then, without its token.
        using var all = events.Subscribe(beforeAll);
        var claimed = all.TakeReplay()[0];
        Assert.Equal("claimed", claimed.Type);
        var data = Text(claimed).Split("\ndata: ")[1].TrimEnd('\n');
        Assert.Equal(JsonSerializer.Serialize(job with { ClaimToken = null }, WireJson.Options), data);
        Assert.DoesNotContain("secret", data, StringComparison.Ordinal);
    }
}
