using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VideoEncode.Api.Webhooks;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Webhooks: signed deliveries to a real loopback receiver, retries and giving up on a clock the test moves, restarts, the address guard.</summary>
public sealed class WebhookTests : IDisposable
{
    private const string Secret = "a-secret-of-some-length";

    private static readonly Dictionary<string, string?> AllowPrivate = new() { ["WebhooksAllowPrivate"] = "true" };

    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public WebhookTests()
    {
        factory = new QueueFactory(settings: AllowPrivate, clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task ADeliveryIsSignedWithTheSecretAndItsTimeAndCarriesTheJob()
    {
        using var receiver = new WebhookReceiver();
        var webhook = await CreateAsync(client, receiver.Url, ["job.finished"], Secret);
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("signed.mp4")))[0];
        await client.ClaimAsync();
        (await client.PostAsync($"/api/jobs/{job.Id}/finish", null)).EnsureSuccessStatusCode();

        await Eventually.TrueAsync(() => !receiver.Received.IsEmpty, () => "no delivery arrived");
        var delivery = Assert.Single(receiver.Received);
        var signature = delivery.Signature!.Split(',').Select(part => part.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds().ToString(), signature["t"]);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(signature["t"] + "." + delivery.Body)));
        Assert.Equal(expected, signature["v1"]);
        Assert.StartsWith("application/json", delivery.ContentType);

        using var body = JsonDocument.Parse(delivery.Body);
        Assert.Equal("job.finished", body.RootElement.GetProperty("type").GetString());
        Assert.StartsWith("evt_", body.RootElement.GetProperty("id").GetString());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(job.Id, data.GetProperty("id").GetInt64());
        Assert.Equal(JobStatus.Finished, data.GetProperty("status").GetString());
        Assert.Equal("signed.mp4", data.GetProperty("file_name").GetString());
        Assert.False(data.TryGetProperty("claim_token", out var token) && token.ValueKind != JsonValueKind.Null);

        // Only the subscribed event (not created nor claimed) was queued; it reads as delivered with its answer.
        await Eventually.TrueAsync(async () => (await DeliveriesAsync(client, webhook))[0].GetProperty("status").GetString() == "delivered",
            () => "the delivery was not recorded as delivered");
        var recorded = Assert.Single(await DeliveriesAsync(client, webhook));
        Assert.Equal(delivery.DeliveryId, recorded.GetProperty("id").GetInt64().ToString());
        Assert.Equal("job.finished", recorded.GetProperty("event").GetString());
        Assert.Equal(job.Id, recorded.GetProperty("job_id").GetInt64());
        Assert.Equal(1, recorded.GetProperty("attempts").GetInt64());
        Assert.Equal(200, recorded.GetProperty("last_status_code").GetInt64());
        Assert.Equal(JsonValueKind.Null, recorded.GetProperty("next_attempt_at").ValueKind);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), recorded.GetProperty("delivered_at").GetInt64());
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task AReceiverThatFailsTwiceGetsTheDeliveryOnTheThirdAttemptAfterBackingOff()
    {
        using var receiver = new WebhookReceiver(answer: n => n <= 2 ? 500 : 204);
        var webhook = await CreateAsync(client, receiver.Url, ["job.created"], Secret);
        await client.EnqueueAsync(QueueCalls.NewJob());
        var created = clock.GetUtcNow().ToUnixTimeSeconds();

        var first = await WaitForAttemptAsync(webhook, 1);
        Assert.Equal(500, first.GetProperty("last_status_code").GetInt64());
        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.Equal(created + 10, first.GetProperty("next_attempt_at").GetInt64());

        clock.Advance(TimeSpan.FromSeconds(10));
        var second = await WaitForAttemptAsync(webhook, 2, previousNextAttempt: created + 10);
        Assert.Equal(created + 10 + 20, second.GetProperty("next_attempt_at").GetInt64()); // the wait doubles

        clock.Advance(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(async () => (await DeliveriesAsync(client, webhook))[0].GetProperty("status").GetString() == "delivered",
            () => $"{receiver.Received.Count} requests arrived");
        var delivered = Assert.Single(await DeliveriesAsync(client, webhook));
        Assert.Equal(3, delivered.GetProperty("attempts").GetInt64());
        Assert.Equal(204, delivered.GetProperty("last_status_code").GetInt64());
        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => (r.Body, r.DeliveryId)).Distinct()); // the same delivery each time
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task ADeliveryRefusedForADayIsMarkedDead()
    {
        using var receiver = new WebhookReceiver(answer: _ => 503);
        var webhook = await CreateAsync(client, receiver.Url, ["job.created"], Secret);
        await client.EnqueueAsync(QueueCalls.NewJob());
        await WaitForAttemptAsync(webhook, 1);

        clock.Advance(TimeSpan.FromHours(25));
        await Eventually.TrueAsync(async () => (await DeliveriesAsync(client, webhook))[0].GetProperty("status").GetString() == "dead",
            () => "the delivery was not given up");
        var dead = Assert.Single(await DeliveriesAsync(client, webhook));
        Assert.Equal(2, dead.GetProperty("attempts").GetInt64());
        Assert.Equal(503, dead.GetProperty("last_status_code").GetInt64());
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("next_attempt_at").ValueKind);
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task ADeliveryLeftWaitingByAStoppedHostIsSentByTheNextOne()
    {
        var database = TestStore.NewDatabase();
        try
        {
            var port = FreePort.Find(); // nobody listens yet: the receiver is down
            long webhook;
            Job job;
            using (var first = new QueueFactory(database, AllowPrivate, clock))
            {
                var firstClient = first.CreateApiClient();
                webhook = await CreateAsync(firstClient, $"http://127.0.0.1:{port}/hook/", ["job.created"], Secret);
                job = (await firstClient.EnqueueAsync(QueueCalls.NewJob("survives.mp4")))[0];
                var failed = await WaitForAttemptAsync(webhook, 1, firstClient);
                Assert.Equal(JsonValueKind.Null, failed.GetProperty("last_status_code").ValueKind);
                Assert.False(string.IsNullOrEmpty(failed.GetProperty("last_error").GetString()));
            }

            using var receiver = new WebhookReceiver(port);
            var later = new ManualClock();
            later.Advance(TimeSpan.FromHours(1));
            using var second = new QueueFactory(database, AllowPrivate, later);
            var secondClient = second.CreateApiClient();
            await Eventually.TrueAsync(async () => (await DeliveriesAsync(secondClient, webhook))[0].GetProperty("status").GetString() == "delivered",
                () => $"{receiver.Received.Count} requests arrived");
            using var body = JsonDocument.Parse(Assert.Single(receiver.Received).Body);
            Assert.Equal(job.Id, body.RootElement.GetProperty("data").GetProperty("id").GetInt64());
            Assert.Equal("job.created", body.RootElement.GetProperty("type").GetString());
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task AWebhookMadeOnOneHostOfASharedStoreHearsOfChangesMadeOnAnother()
    {
        var database = TestStore.NewPostgresDatabase();
        try
        {
            using var receiver = new WebhookReceiver();
            using var hostA = new QueueFactory(database, AllowPrivate);
            using var hostB = new QueueFactory(database, AllowPrivate);
            var onA = hostA.CreateApiClient();
            var onB = hostB.CreateApiClient();
            var webhook = await CreateAsync(onA, receiver.Url, ["job.created", "job.finished"], Secret);

            var job = (await onB.EnqueueAsync(QueueCalls.NewJob("elsewhere.mp4")))[0];
            await onB.ClaimAsync();
            (await onB.PostAsync($"/api/jobs/{job.Id}/finish", null)).EnsureSuccessStatusCode();

            await Eventually.TrueAsync(async () => (await DeliveriesAsync(onA, webhook)).All(d => d.GetProperty("status").GetString() == "delivered"),
                () => $"{receiver.Received.Count} requests arrived");
            Assert.Equal(["job.finished", "job.created"], (await DeliveriesAsync(onA, webhook)).Select(d => d.GetProperty("event").GetString()));
            Assert.Equal(2, receiver.Received.Count); // each sent once, though both hosts dispatch
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    [Fact]
    public async Task APrivateAddressIsRefusedAgainWhenSendingOnAHostThatDoesNotAllowIt()
    {
        var database = TestStore.NewDatabase();
        try
        {
            using var receiver = new WebhookReceiver();
            long webhook;
            using (var allowing = new QueueFactory(database, AllowPrivate, clock))
                webhook = await CreateAsync(allowing.CreateApiClient(), receiver.Url, ["job.created"], Secret);

            using var guarded = new QueueFactory(database, clock: clock);
            var guardedClient = guarded.CreateApiClient();
            await guardedClient.EnqueueAsync(QueueCalls.NewJob());
            var refused = await WaitForAttemptAsync(webhook, 1, guardedClient);
            Assert.Contains("WebhooksAllowPrivate", refused.GetProperty("last_error").GetString());
            Assert.Empty(receiver.Received);
        }
        finally
        {
            TestStore.Delete(database);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("https://10.1.2.3/")]
    [InlineData("http://192.168.0.10/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://[fd00::1]/")]
    [InlineData("http://0.0.0.0/")]
    public async Task WebhooksMayNotReachPrivateAddressesUnlessAllowed(string url)
    {
        using var guarded = new QueueFactory();
        var guardedClient = guarded.CreateApiClient();
        var response = await guardedClient.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "job.finished" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WebhooksAllowPrivate", await QueueCalls.ErrorOf(response));
        Assert.Equal("[]", await guardedClient.GetStringAsync("/api/webhooks"));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("100.64.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::", false)]
    // IPv6 forms that carry an IPv4 address are judged by it.
    [InlineData("64:ff9b::808:808", true)]                          // NAT64 of 8.8.8.8
    [InlineData("64:ff9b::7f00:1", false)]                          // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", false)]                       // NAT64 of 169.254.169.254
    [InlineData("64:ff9b:1::a00:1", false)]                         // NAT64 local use: never
    [InlineData("::127.0.0.1", false)]                              // IPv4-compatible
    [InlineData("::10.0.0.1", false)]
    [InlineData("::8.8.8.8", true)]
    [InlineData("2002:808:808::1", true)]                           // 6to4 of 8.8.8.8
    [InlineData("2002:7f00:1::1", false)]                           // 6to4 of 127.0.0.1
    [InlineData("2002:c0a8:1::1", false)]                           // 6to4 of 192.168.0.1
    [InlineData("2001:0:4136:e378:8000:63bf:f7f7:f7f7", true)]      // Teredo: server 65.54.227.120, client 8.8.8.8
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe", false)]     // Teredo client 127.0.0.1 (inverted)
    [InlineData("2001:0:4136:e378:8000:63bf:f5ff:fffe", false)]     // Teredo client 10.0.0.1
    [InlineData("2001:0:a00:1:8000:63bf:f7f7:f7f7", false)]         // Teredo server 10.0.0.1
    [InlineData("fec0::1", false)]                                  // site-local
    [InlineData("100::1", false)]                                   // discard-only, not global unicast
    public void TheGuardTellsPublicAddressesFromTheRest(string address, bool isPublic) =>
        Assert.Equal(isPublic, AddressGuard.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("""{"events": ["job.finished"]}""", "url is required")]
    [InlineData("""{"url": "ftp://example.com/x", "events": ["job.finished"]}""", "url must be an absolute http")]
    [InlineData("""{"url": "/relative", "events": ["job.finished"]}""", "url must be an absolute http")]
    [InlineData("""{"url": "http://example.com/", "events": []}""", "events is required")]
    [InlineData("""{"url": "http://example.com/", "events": "job.finished"}""", "events is required")]
    [InlineData("""{"url": "http://example.com/", "events": ["job.finished", "job.exploded"]}""", "Unknown event \"job.exploded\"")]
    [InlineData("""{"url": "http://example.com/", "events": ["job.finished"], "secret": "short"}""", "secret must be a string of 16")]
    [InlineData("""[1]""", "Send {")]
    public async Task ABadWebhookIsRefusedWithTheReasonAndNothingIsStored(string request, string reason)
    {
        var response = await client.PostAsync("/api/webhooks", new StringContent(request, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await QueueCalls.ErrorOf(response));
        Assert.Equal("[]", await client.GetStringAsync("/api/webhooks"));
    }

    [Fact]
    public async Task TheSecretIsShownOnceAndTheMakingAndDeletingAreAudited()
    {
        var given = await client.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/a", events = new[] { "job.failed", "job.failed" }, secret = Secret });
        Assert.Equal(HttpStatusCode.Created, given.StatusCode);
        using var givenBody = JsonDocument.Parse(await given.Content.ReadAsStringAsync());
        Assert.Equal(Secret, givenBody.RootElement.GetProperty("secret").GetString());
        Assert.Equal(["job.failed"], givenBody.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        var id = givenBody.RootElement.GetProperty("id").GetInt64();
        Assert.Equal($"/api/webhooks/{id}", given.Headers.Location!.OriginalString);

        var made = await client.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/b", events = new[] { "job.created" } });
        using var madeBody = JsonDocument.Parse(await made.Content.ReadAsStringAsync());
        var madeSecret = madeBody.RootElement.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", madeSecret);

        var listed = await client.GetStringAsync("/api/webhooks");
        var one = await client.GetStringAsync($"/api/webhooks/{id}");
        foreach (var answer in new[] { listed, one })
        {
            Assert.DoesNotContain(Secret, answer);
            Assert.DoesNotContain(madeSecret, answer);
            Assert.DoesNotContain("secret", answer);
        }
        Assert.Contains("http://127.0.0.1:9/a", one);

        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/webhooks/{id}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/webhooks/abc")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/webhooks/{madeBody.RootElement.GetProperty("id").GetInt64()}/deliveries?limit=0")).StatusCode);

        var audit = await client.GetStringAsync("/api/audit");
        Assert.Contains("webhook.create", audit);
        Assert.Contains("webhook.delete", audit);
        Assert.DoesNotContain(Secret, audit);
    }

    [Fact]
    public async Task OnlyAdminsManageWebhooks()
    {
        var key = await client.PostAsJsonAsync("/api/keys", new { name = "submitter", role = "submit" });
        key.EnsureSuccessStatusCode();
        using var keyBody = JsonDocument.Parse(await key.Content.ReadAsStringAsync());
        var submitter = factory.CreateApiClient(keyBody.RootElement.GetProperty("key").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await submitter.GetAsync("/api/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await submitter.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/", events = new[] { "job.created" } })).StatusCode);
        Assert.Equal("[]", await client.GetStringAsync("/api/webhooks"));
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task DeletingAWebhookDropsItsWaitingDeliveries()
    {
        using var receiver = new WebhookReceiver(answer: _ => 500);
        var webhook = await CreateAsync(client, receiver.Url, ["job.created"], Secret);
        await client.EnqueueAsync(QueueCalls.NewJob());
        await WaitForAttemptAsync(webhook, 1);
        (await client.DeleteAsync($"/api/webhooks/{webhook}")).EnsureSuccessStatusCode();

        clock.Advance(TimeSpan.FromHours(1));
        // A new webhook's delivery is sent after the old one would have been due: the old one was not.
        using var other = new WebhookReceiver();
        await CreateAsync(client, other.Url, ["job.created"], Secret);
        await client.EnqueueAsync(QueueCalls.NewJob("second.mp4"));
        await Eventually.TrueAsync(() => !other.Received.IsEmpty, () => "the second webhook got nothing");
        Assert.Single(receiver.Received);
    }

    [Fact]
    [Trait("Store", TestStore.Contract)]
    public async Task WebhooksMadeAndDeletedBetweenChangesAreReadAtEachChange()
    {
        // The subscriptions are read afresh inside every job write (on SQLite by a statement kept compiled on the
        // writer's connection): one made after changes were announced without it hears the next, one deleted does not.
        using var receiver = new WebhookReceiver();
        var before = (await client.EnqueueAsync(QueueCalls.NewJob("before.mp4")))[0];
        var first = await CreateAsync(client, receiver.Url, ["job.created"], Secret);
        var second = (await client.EnqueueAsync(QueueCalls.NewJob("second.mp4")))[0];
        var other = await CreateAsync(client, receiver.Url, ["job.created"], Secret);
        var third = (await client.EnqueueAsync(QueueCalls.NewJob("third.mp4")))[0];
        Assert.Equal([second.Id, third.Id], await JobsOfAsync(first));
        (await client.DeleteAsync($"/api/webhooks/{first}")).EnsureSuccessStatusCode();
        var fourth = (await client.EnqueueAsync(QueueCalls.NewJob("fourth.mp4")))[0];

        Assert.Equal([third.Id, fourth.Id], await JobsOfAsync(other));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/webhooks/{first}/deliveries")).StatusCode);

        async Task<long[]> JobsOfAsync(long webhook) =>
            (await DeliveriesAsync(client, webhook)).Select(delivery => delivery.GetProperty("job_id").GetInt64()).Order().ToArray();
    }

    private static async Task<long> CreateAsync(HttpClient client, string url, string[] events, string secret)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url, events, secret });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetInt64();
    }

    private static async Task<JsonElement[]> DeliveriesAsync(HttpClient client, long webhook)
    {
        var response = await client.GetAsync($"/api/webhooks/{webhook}/deliveries");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.EnumerateArray().Select(delivery => delivery.Clone()).ToArray();
    }

    /// <summary>
    /// The webhook's one delivery once its failed <paramref name="attempt"/>-th attempt has been recorded (the count
    /// rises when the attempt starts; its answer is recorded when it ends, and moves the next attempt from <paramref name="previousNextAttempt"/>).
    /// </summary>
    private async Task<JsonElement> WaitForAttemptAsync(long webhook, int attempt, HttpClient? on = null, long? previousNextAttempt = null)
    {
        JsonElement[] deliveries = [];
        await Eventually.TrueAsync(async () =>
        {
            deliveries = await DeliveriesAsync(on ?? client, webhook);
            return deliveries.Length == 1 && deliveries[0].GetProperty("attempts").GetInt64() == attempt
                && deliveries[0].GetProperty("last_error").ValueKind != JsonValueKind.Null
                && (previousNextAttempt is null || deliveries[0].GetProperty("next_attempt_at").ValueKind == JsonValueKind.Null
                    || deliveries[0].GetProperty("next_attempt_at").GetInt64() != previousNextAttempt);
        }, () => string.Join("\n", deliveries.Select(d => d.GetRawText()).Concat(factory.LogLines.Where(line => line.Contains("Webhook")))));
        return deliveries[0];
    }
}
