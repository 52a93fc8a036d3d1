using System.Net.Http.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// The HTTP API on PostgreSQL, end to end, once: the API suite runs on SQLite and the store rules run
/// on both stores (the "Contract" classes), so this only shows that the host's routes, the change feed
/// and the search reach PostgreSQL. It chooses PostgreSQL itself, whatever VIDEOENCODE_TEST_STORE says.
/// </summary>
[Trait("Store", TestStore.RunOnce)]
public sealed class PostgresSmokeTests : IDisposable
{
    private readonly QueueFactory factory = new(TestStore.NewPostgresDatabase());

    public void Dispose()
    {
        factory.Dispose();
        TestStore.Delete(factory.Database);
    }

    [Fact]
    public async Task AJobIsEnqueuedClaimedFinishedStreamedAndFound()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var address = factory.StartOnLoopback();
        var client = factory.CreateApiClient();
        using var events = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        events.DefaultRequestHeaders.Add("X-API-Key", QueueFactory.ApiKey);
        using var response = await events.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        response.EnsureSuccessStatusCode();
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        // The stream opens with this comment: from here on the test's changes reach it.
        while (await stream.ReadLineAsync(cancel.Token) is { } line && line != ": connected") { }

        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("smoke/Holiday Film.mkv"), QueueCalls.NewJob("smoke/other.mkv"));
        var claimed = await client.ClaimAsync(new ClaimRequest("encoder-1"));
        Assert.Equal(jobs[0].Id, claimed!.Id);
        var finish = await client.PostAsJsonAsync($"/api/jobs/{claimed.Id}/finish", new ClaimProof(claimed.ClaimToken!), WireJson.Options);
        finish.EnsureSuccessStatusCode();

        // Every host reads the changes back from the database's feed: created twice, then claimed and finished.
        var seen = new List<(string Type, long Id)>();
        string? type = null;
        while (!seen.Contains(("finished", claimed.Id)) && await stream.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && type != "progress")
            {
                using var data = System.Text.Json.JsonDocument.Parse(line[6..]);
                seen.Add((type!, data.RootElement.GetProperty("id").GetInt64()));
            }
        }
        Assert.Equal([("created", jobs[0].Id), ("created", jobs[1].Id), ("claimed", claimed.Id), ("finished", claimed.Id)], seen);

        Assert.Equal(JobStatus.Finished, (await client.GetJobAsync(claimed.Id)).Status);
        var found = await client.ListAsync("status=all&q=HOLIDAY");
        Assert.Equal((claimed.Id, JobStatus.Finished), (Assert.Single(found).Id, found[0].Status));
    }
}
