using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Upkeep;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Statistics, workers and metrics against a scripted scenario on a clock the test moves.</summary>
[Trait("Store", TestStore.Contract)]
public sealed partial class OperationsTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public OperationsTests()
    {
        // The lease keeper sweeps only when the test says so, so the scenario is exact.
        factory = new QueueFactory(settings: new Dictionary<string, string?> { ["LeaseSeconds"] = "30", ["LeaseSweepSeconds"] = "3600", ["LeaderLeaseSeconds"] = "7200" }, clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    /// <summary>
    /// Five jobs: "steady" finishes one (waited 10 s, took 60 s) and fails one, then keeps encoding a
    /// third with heartbeats; "flaky" claims the fourth and falls silent; the fifth waits.
    /// </summary>
    private async Task<Job[]> PlayScenarioAsync()
    {
        var jobs = await client.EnqueueAsync(Enumerable.Range(1, 5).Select(i => QueueCalls.NewJob($"{i}.mkv")).ToArray());
        clock.Advance(TimeSpan.FromSeconds(10));
        var first = await Claim("steady");
        clock.Advance(TimeSpan.FromSeconds(60));
        await client.PostAsJsonAsync($"/api/jobs/{first.Id}/finish", new ClaimProof(first.ClaimToken!), WireJson.Options);
        var second = await Claim("steady");
        await client.PostAsJsonAsync($"/api/jobs/{second.Id}/fail", new FailureReport("bad input", ClaimToken: second.ClaimToken), WireJson.Options);
        var flaky = await Claim("flaky");
        var third = await Claim("steady");
        clock.Advance(TimeSpan.FromSeconds(25));
        await client.PostAsJsonAsync($"/api/jobs/{third.Id}/heartbeat", new Heartbeat(third.ClaimToken!, 40, 2.5, 12), WireJson.Options);
        clock.Advance(TimeSpan.FromSeconds(10)); // flaky: silent for 35 s, past its 30 s lease
        Assert.Equal(JobStatus.InProgress, (await client.GetFromJsonAsync<Job>($"/api/jobs/{flaky.Id}", WireJson.Options))!.Status);
        return jobs;
    }

    [Fact]
    public async Task StatsReflectTheScenarioExactly()
    {
        var jobs = await PlayScenarioAsync();
        var stats = await client.GetFromJsonAsync<JsonElement>("/api/stats");

        var counts = stats.GetProperty("counts");
        Assert.Equal((1, 2, 1, 1, 0), (counts.GetProperty("pending").GetInt32(), counts.GetProperty("in_progress").GetInt32(),
            counts.GetProperty("finished").GetInt32(), counts.GetProperty("failed").GetInt32(), counts.GetProperty("cancelled").GetInt32()));
        Assert.Equal(5, stats.GetProperty("total").GetInt32());
        Assert.Equal(105, stats.GetProperty("oldest_pending_age_seconds").GetInt64()); // the fifth job, enqueued 10+60+25+10 s ago
        Assert.Equal(1, stats.GetProperty("finished_last_hour").GetInt32());
        Assert.Equal(10, stats.GetProperty("average_wait_seconds").GetDouble());
        Assert.Equal(60, stats.GetProperty("average_encode_seconds").GetDouble());
        Assert.Equal(jobs[4].Id, (await client.ListAsync("status=pending")).Single().Id);

        clock.Advance(TimeSpan.FromHours(1));
        var later = await client.GetFromJsonAsync<JsonElement>("/api/stats");
        Assert.Equal(0, later.GetProperty("finished_last_hour").GetInt32());
        Assert.Equal(JsonValueKind.Null, later.GetProperty("average_encode_seconds").ValueKind);
    }

    [Fact]
    public async Task WorkersShowRunningJobsCountsAndTheLostOne()
    {
        var jobs = await PlayScenarioAsync();
        var workers = await client.GetFromJsonAsync<JsonElement>("/api/workers");
        var byName = workers.EnumerateArray().ToDictionary(w => w.GetProperty("name").GetString()!);

        Assert.Equal(["flaky", "steady"], byName.Keys.Order());
        var steady = byName["steady"];
        Assert.False(steady.GetProperty("lost").GetBoolean());
        Assert.Equal((1, 1), (steady.GetProperty("jobs_finished").GetInt32(), steady.GetProperty("jobs_failed").GetInt32()));
        var running = Assert.Single(steady.GetProperty("jobs").EnumerateArray());
        Assert.Equal((jobs[3].Id, 40.0, 2.5, 12L), (running.GetProperty("id").GetInt64(), running.GetProperty("progress").GetDouble(),
            running.GetProperty("speed").GetDouble(), running.GetProperty("eta_seconds").GetInt64()));
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() - 10, steady.GetProperty("last_seen_at").GetInt64());

        var flaky = byName["flaky"];
        Assert.True(flaky.GetProperty("lost").GetBoolean());
        Assert.Equal(jobs[2].Id, Assert.Single(flaky.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task MetricsParseAsPrometheusTextAndTheirCountersMatchTheScenario()
    {
        await PlayScenarioAsync();
        await factory.GetService<UpkeepLoop>().RunRoundAsync();        // flaky's job goes back to the queue

        // On a shared PostgreSQL store the counters follow the changes every host reads back from the
        // database (they count every host's changes), a moment after each commit.
        var samples = new Dictionary<string, double>();
        await Eventually.TrueAsync(async () => (samples = await ScrapeAsync()).GetValueOrDefault("videoencode_lease_expiries_total") == 1,
            () => string.Join("\n", samples));
        Assert.Equal(4, samples["videoencode_claims_total"]);
        Assert.Equal(1, samples["videoencode_finishes_total"]);
        Assert.Equal(1, samples["videoencode_failures_total"]);
        Assert.Equal(1, samples["videoencode_lease_expiries_total"]);
        Assert.Equal(2, samples["videoencode_jobs{status=\"pending\"}"]);
        Assert.Equal(1, samples["videoencode_jobs{status=\"in_progress\"}"]);
        Assert.Equal(4, samples["videoencode_http_request_duration_seconds_count{method=\"POST\",route=\"/api/jobs/claim\",status=\"200\"}"]);
        Assert.Equal(4, samples["videoencode_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/jobs/claim\",status=\"200\",le=\"+Inf\"}"]);
    }

    /// <summary>
    /// Request durations are kept by route pattern (never the raw path) and the status the client got, the
    /// key middleware's 401 included; a path that is no route makes no series.
    /// </summary>
    [Fact]
    public async Task RequestDurationsAreByRouteAndFinalStatusAndOnlyForRoutes()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/jobs/987654")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateApiClient(key: null).GetAsync("/api/jobs/987654")).StatusCode);
        await client.GetAsync("/no-such-route/987654");

        var samples = await ScrapeAsync();
        Assert.Equal(1, samples["videoencode_http_request_duration_seconds_count{method=\"GET\",route=\"/api/jobs/{id}\",status=\"404\"}"]);
        Assert.Equal(1, samples["videoencode_http_request_duration_seconds_count{method=\"GET\",route=\"/api/jobs/{id}\",status=\"401\"}"]);
        Assert.DoesNotContain(samples.Keys, series => series.Contains("987654") || series.Contains("route=\"\""));
        Assert.DoesNotContain(samples.Keys, series => series.StartsWith("http_", StringComparison.Ordinal)); // prometheus-net's defaults stay off
        // The scrape is timed too, once it has answered: the next scrape shows the first.
        Assert.Equal(1, (await ScrapeAsync())["videoencode_http_request_duration_seconds_count{method=\"GET\",route=\"/metrics\",status=\"200\"}"]);
    }

    /// <summary>Reads /metrics, checking that every line is Prometheus text, and answers its samples.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();

        var samples = new Dictionary<string, double>();
        var typed = new HashSet<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram" });
                typed.Add(parts[2]);
                continue;
            }
            var sample = Sample().Match(line);
            Assert.True(sample.Success, $"not a Prometheus sample line: {line}");
            Assert.Contains(typed, name => sample.Groups["name"].Value.StartsWith(name, StringComparison.Ordinal));
            samples[sample.Groups["series"].Value] = double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [Fact]
    public async Task MetricsNeedTheKeyUnlessConfiguredOpen()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateApiClient(key: null).GetAsync("/metrics")).StatusCode);
        using var open = new QueueFactory(settings: new Dictionary<string, string?> { ["MetricsOpen"] = "true" });
        Assert.Equal(HttpStatusCode.OK, (await open.CreateApiClient(key: null).GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await open.CreateApiClient(key: null).GetAsync("/api/jobs")).StatusCode);
    }

    private async Task<Job> Claim(string worker)
    {
        var response = await client.PostAsJsonAsync("/api/jobs/claim", new ClaimRequest(worker), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job>(WireJson.Options))!;
    }

    [GeneratedRegex(@"^(?<series>(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*""(,[a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*"")*\})?) (?<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\+Inf|-Inf|NaN)$")]
    private static partial Regex Sample();
}
