using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// The routes of quotas per key, schedules and timed pauses, and their 4xx answers (the rules themselves are the store
/// contract's, QuotaScheduleContractTests). The clock is manual: 2026-05-04 12:00 UTC, a Monday.
/// </summary>
public sealed class QuotaScheduleTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient admin;

    public QuotaScheduleTests()
    {
        clock.Advance(DateTimeOffset.Parse("2026-05-04T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture) - clock.GetUtcNow());
        factory = new QueueFactory(clock: clock);
        admin = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    private static async Task<JsonElement> Body(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private async Task<HttpResponseMessage> PutAsync(HttpClient client, string path, string json) =>
        await client.PutAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    [Fact]
    public async Task AKeyOverItsQuotaIsAnswered429WithRetryAfterAndSeesItsUsage()
    {
        var created = await admin.PostAsJsonAsync("/api/keys", new { name = "alice", role = "submit", quota = new { jobs_per_day = 2, max_pending = 5 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var made = await Body(created);
        Assert.Equal(2, made.GetProperty("quota").GetProperty("jobs_per_day").GetInt64());
        var alice = factory.CreateApiClient(made.GetProperty("key").GetString());

        await alice.EnqueueAsync(QueueCalls.NewJob("a.mkv"));
        var over = await alice.PostAsJsonAsync("/api/jobs", new[] { QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv") });

        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.Equal(TimeSpan.FromHours(12), over.Headers.RetryAfter!.Delta);
        var refusal = await Body(over);
        Assert.Equal(("jobs_per_day", 43200L), (refusal.GetProperty("quota").GetString(), refusal.GetProperty("retry_after_seconds").GetInt64()));
        Assert.Contains("nothing was stored", refusal.GetProperty("error").GetString());
        Assert.Single(await admin.ListAsync());

        var current = await alice.GetFromJsonAsync<JsonElement>("/api/keys/current");
        Assert.Equal(("alice", "submit"), (current.GetProperty("name").GetString(), current.GetProperty("role").GetString()));
        Assert.Equal(5, current.GetProperty("quota").GetProperty("max_pending").GetInt64());
        Assert.Equal(JsonValueKind.Null, current.GetProperty("quota").GetProperty("encode_seconds_per_day").ValueKind);
        var usage = current.GetProperty("usage");
        Assert.Equal((1L, 1L, 0.0), (usage.GetProperty("jobs").GetInt64(), usage.GetProperty("pending").GetInt64(), usage.GetProperty("encode_seconds").GetDouble()));
        Assert.Equal(DateTimeOffset.Parse("2026-05-05T00:00:00Z").ToUnixTimeSeconds(), usage.GetProperty("resets_at").GetInt64());

        // The configured key has no quota until one is set; the list shows each key's.
        Assert.Equal(JsonValueKind.Null, (await admin.GetFromJsonAsync<JsonElement>("/api/keys/current")).GetProperty("quota").ValueKind);
        var listed = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/keys")).EnumerateArray());
        Assert.Equal(1, listed.GetProperty("usage").GetProperty("jobs").GetInt64());

        var raised = await PutAsync(admin, "/api/keys/alice/quota", """{"jobs_per_day": 3}""");
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsJsonAsync("/api/jobs", new[] { QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv") })).StatusCode);
    }

    [Fact]
    public async Task AQuotaIsCheckedAndOnlyAdminsSetIt()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/keys", new { name = "a", role = "submit", quota = new { jobs_per_week = 1 } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/keys", new { name = "a", role = "submit", quota = new { max_pending = -1 } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(admin, "/api/keys/VIDEOENCODE_APIKEY/quota", """{"jobs_per_day": "ten"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PutAsync(admin, "/api/keys/nobody/quota", """{"jobs_per_day": 1}""")).StatusCode);
        var submitter = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "bob", "submit"));
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync(submitter, "/api/keys/bob/quota", "{}")).StatusCode);

        // The configured key, by its name, and {} removes a quota.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, "/api/keys/VIDEOENCODE_APIKEY/quota", """{"jobs_per_day": 0}""")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await admin.PostAsJsonAsync("/api/jobs", QueueCalls.NewJob())).StatusCode);
        var removed = await Body(await PutAsync(admin, "/api/keys/VIDEOENCODE_APIKEY/quota", "{}"));
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("quota").ValueKind);
        await admin.EnqueueAsync(QueueCalls.NewJob());
    }

    [Fact]
    public async Task AFinishMayReportTheInputsDurationWhichTheKeysUsageCounts()
    {
        await admin.EnqueueAsync(QueueCalls.NewJob());
        var job = (await admin.ClaimAsync(new { worker = "w1" }))!;
        var bad = await admin.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = job.ClaimToken, input_seconds = -1 });
        Assert.Equal((HttpStatusCode.BadRequest, "input_seconds"), (bad.StatusCode, (await Body(bad)).GetProperty("field").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/jobs/{job.Id}/finish", new { claim_token = job.ClaimToken, input_seconds = 12.5 })).StatusCode);
        Assert.Equal(12.5, (await admin.GetFromJsonAsync<JsonElement>("/api/keys/current")).GetProperty("usage").GetProperty("encode_seconds").GetDouble());
    }

    [Fact]
    public async Task AClaimOutsideTheSchedulesIs404WithTheReasonAndWhenTheyOpen()
    {
        await admin.EnqueueAsync(QueueCalls.NewJob());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/schedule")).StatusCode);
        var set = await PutAsync(admin, "/api/schedule", """{"time_zone": "Europe/Berlin", "windows": [{"days": ["mon", "tue"], "from": "22:00", "to": "06:00"}]}""");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var view = await Body(set);
        var opens = DateTimeOffset.Parse("2026-05-04T20:00:00Z").ToUnixTimeSeconds();   // 22:00 CEST
        Assert.Equal((false, opens), (view.GetProperty("open").GetBoolean(), view.GetProperty("opens_at").GetInt64()));
        Assert.Equal("Europe/Berlin", (await admin.GetFromJsonAsync<JsonElement>("/api/schedule")).GetProperty("time_zone").GetString());
        Assert.Equal(opens, (await admin.GetFromJsonAsync<JsonElement>("/api/queue")).GetProperty("schedule").GetProperty("opens_at").GetInt64());

        var refused = await admin.PostAsJsonAsync("/api/jobs/claim", new { worker = "w1" });
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        var body = await Body(refused);
        Assert.Equal((NoJob.NoJobsAvailable, "outside schedule", opens),
            (body.GetProperty("error").GetString(), body.GetProperty("reason").GetString(), body.GetProperty("opens_at").GetInt64()));

        clock.Advance(TimeSpan.FromHours(8));   // 22:00 CEST
        var open = await admin.GetFromJsonAsync<JsonElement>("/api/schedule");
        Assert.Equal((true, DateTimeOffset.Parse("2026-05-05T04:00:00Z").ToUnixTimeSeconds()), (open.GetProperty("open").GetBoolean(), open.GetProperty("closes_at").GetInt64()));
        Assert.NotNull(await admin.ClaimAsync(new { worker = "w1" }));
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync("/api/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/api/schedule")).StatusCode);
    }

    [Fact]
    public async Task AWorkersScheduleHasItsOwnRoutesAndBadSchedulesAre400()
    {
        foreach (var bad in new[]
                 {
                     """{"time_zone": "Mars/Olympus", "windows": []}""", """{"time_zone": "UTC"}""",
                     """{"time_zone": "UTC", "windows": [{"days": ["monday"], "from": "22:00", "to": "06:00"}]}""",
                     """{"time_zone": "UTC", "windows": [{"from": "25:00", "to": "06:00"}]}""",
                     """{"time_zone": "UTC", "windows": [{"from": "22:00", "to": "6"}]}""",
                 })
            Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(admin, "/api/workers/w1/schedule", bad)).StatusCode);

        var always = await Body(await PutAsync(admin, "/api/workers/w1/schedule", """{"time_zone": "UTC", "windows": []}"""));
        Assert.Equal(("w1", true, JsonValueKind.Null), (always.GetProperty("worker").GetString(), always.GetProperty("open").GetBoolean(), always.GetProperty("closes_at").ValueKind));
        var daily = await Body(await PutAsync(admin, "/api/workers/w1/schedule", """{"time_zone": "UTC", "windows": [{"from": "09:00", "to": "17:00"}]}"""));
        Assert.Equal(7, daily.GetProperty("windows")[0].GetProperty("days").GetArrayLength());
        Assert.Equal(DateTimeOffset.Parse("2026-05-04T17:00:00Z").ToUnixTimeSeconds(), daily.GetProperty("closes_at").GetInt64());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/workers/w1/schedule")).StatusCode);
        await admin.EnqueueAsync(QueueCalls.NewJob());
        Assert.NotNull(await admin.ClaimAsync(new { worker = "w1" }));   // 12:00, inside 09:00–17:00; the worker is seen
        var listed = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/workers")).EnumerateArray());
        Assert.Equal("09:00", listed.GetProperty("schedule").GetProperty("windows")[0].GetProperty("from").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/workers/w2/schedule")).StatusCode);

        var reader = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "watcher", "read"));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/workers/w1/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync(reader, "/api/schedule", """{"time_zone": "UTC", "windows": []}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync("/api/workers/w1/schedule")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync("/api/workers/w1/schedule")).StatusCode);
    }

    [Fact]
    public async Task APauseForSomeMinutesSaysWhenItEnds()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/queue/pause", new { minutes = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/queue/pause", new { minutes = "ten" })).StatusCode);
        var paused = await Body(await admin.PostAsJsonAsync("/api/queue/pause", new { minutes = 90 }));
        Assert.Equal((true, clock.GetUtcNow().ToUnixTimeSeconds() + 5400), (paused.GetProperty("paused").GetBoolean(), paused.GetProperty("resume_at").GetInt64()));

        // A pause while paused takes the new end: none, then 90 minutes again.
        Assert.Equal(JsonValueKind.Null, (await Body(await admin.PostAsync("/api/queue/pause", null))).GetProperty("resume_at").ValueKind);
        await admin.PostAsJsonAsync("/api/queue/pause", new { minutes = 90 });

        clock.Advance(TimeSpan.FromMinutes(90));
        var state = await admin.GetFromJsonAsync<JsonElement>("/api/queue");
        Assert.Equal((false, JsonValueKind.Null), (state.GetProperty("paused").GetBoolean(), state.GetProperty("resume_at").ValueKind));
    }
}
