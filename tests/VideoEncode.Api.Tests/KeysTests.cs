using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Database;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Named keys: made, listed, used, revoked; and the audit trail of who did what.</summary>
public sealed class KeysTests : IDisposable
{
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;

    public KeysTests() => factory = new QueueFactory(clock: clock);

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task AKeysSecretIsShownOnceAndOnlyItsHashIsStored()
    {
        var admin = factory.CreateApiClient();
        var created = await admin.PostAsJsonAsync("/api/keys", new { name = "farm-7", role = "worker" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var secret = body.GetProperty("key").GetString()!;
        Assert.Equal("worker", body.GetProperty("role").GetString());
        Assert.True(secret.Length >= 40, secret);

        var listed = await admin.GetStringAsync("/api/keys");
        Assert.DoesNotContain(secret, listed);
        var key = Assert.Single(JsonDocument.Parse(listed).RootElement.EnumerateArray());
        Assert.Equal("farm-7", key.GetProperty("name").GetString());
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), key.GetProperty("created_at").GetInt64());
        Assert.Equal(KeyRing.ConfiguredKeyName, key.GetProperty("created_by").GetString());
        Assert.False(key.TryGetProperty("key", out _));

        var stored = await factory.GetService<IStoreSql>().ReadAsync(async connection =>
            (await connection.QueryAsync<string>("SELECT key_hash FROM api_keys")).Single());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), stored);
    }

    [Fact]
    public async Task AKeyWorksAsItsRoleSaysAndItsUseIsNoted()
    {
        var admin = factory.CreateApiClient();
        var submit = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "uploader", Roles.Submit));

        var job = (await submit.EnqueueAsync(QueueCalls.NewJob()))[0];
        Assert.Equal("uploader", job.CreatedBy);
        Assert.Equal(KeyRing.ConfiguredKeyName, (await admin.EnqueueAsync(QueueCalls.NewJob("b.mkv")))[0].CreatedBy);
        Assert.StartsWith("""{"name":"uploader","role":"submit","quota":null,"usage":{""", await submit.GetStringAsync("/api/keys/current"));
        Assert.Equal(HttpStatusCode.Forbidden, (await submit.PostAsync("/api/jobs/claim", null)).StatusCode);

        await Eventually.TrueAsync(async () => (await admin.GetFromJsonAsync<ApiKeyInfo[]>("/api/keys", WireJson.Options))!
            .Single().LastUsedAt == clock.GetUtcNow().ToUnixTimeSeconds(), () => "the key's last use is noted");
    }

    [Fact]
    public async Task ARevokedKeyStopsWorkingAtOnce()
    {
        var admin = factory.CreateApiClient();
        var reader = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "dashboard", Roles.Read));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/stats")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync("/api/keys/dashboard")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.GetAsync("/api/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/api/keys/dashboard")).StatusCode);
        Assert.Equal("[]", await admin.GetStringAsync("/api/keys"));
    }

    [Theory]
    [InlineData("""{"name": "", "role": "read"}""", "name must be")]
    [InlineData("""{"name": "has space", "role": "read"}""", "name must be")]
    [InlineData("""{"name": "videoencode_apikey", "role": "read"}""", "configured key")]
    [InlineData("""{"name": "ok", "role": "owner"}""", "role must be one of: admin, submit, worker, read")]
    [InlineData("""{"name": "ok"}""", "Send {")]
    [InlineData("""["ok", "read"]""", "Send {")]
    public async Task ABadKeyRequestIsRefusedAndStoresNothing(string request, string error)
    {
        var admin = factory.CreateApiClient();
        var response = await admin.PostAsync("/api/keys", new StringContent(request, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(error, await QueueCalls.ErrorOf(response));
        Assert.Equal("[]", await admin.GetStringAsync("/api/keys"));
    }

    [Fact]
    public async Task ATakenNameIsAConflictAndKeepsTheFirstKey()
    {
        var admin = factory.CreateApiClient();
        var first = await KeyCalls.CreateKeyAsync(admin, "twice", Roles.Read);
        var again = await admin.PostAsJsonAsync("/api/keys", new { name = "twice", role = "admin" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.StartsWith("""{"name":"twice","role":"read","quota":null,"usage":{""", await factory.CreateApiClient(first).GetStringAsync("/api/keys/current"));
    }

    [Fact]
    public async Task PeoplesActionsAreRecordedWithTheKeysNameAndTime()
    {
        var admin = factory.CreateApiClient();
        var submit = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "ops-desk", Roles.Submit));
        var jobs = await submit.EnqueueAsync(QueueCalls.NewJob("a.mkv"), QueueCalls.NewJob("b.mkv"), QueueCalls.NewJob("c.mkv"));
        Assert.Equal(HttpStatusCode.OK, (await submit.PostAsync($"/api/jobs/{jobs[0].Id}/cancel", null)).StatusCode);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await submit.PostAsync($"/api/jobs/{jobs[0].Id}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/jobs/{jobs[1].Id}/reset", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/jobs/{jobs[2].Id}")).StatusCode);
        // Steps that changed nothing are not actions taken.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/jobs/{jobs[2].Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await submit.GetAsync("/api/audit")).StatusCode);

        var trail = (await admin.GetFromJsonAsync<AuditEntry[]>("/api/audit", WireJson.Options))!;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(new[]
        {
            (KeyRing.ConfiguredKeyName, "job.delete", jobs[2].Id.ToString(), "pending -> deleted", now),
            (KeyRing.ConfiguredKeyName, "job.reset", jobs[1].Id.ToString(), "pending -> pending", now),
            ("ops-desk", "job.retry", jobs[0].Id.ToString(), "cancelled -> pending", now),
            ("ops-desk", "job.cancel", jobs[0].Id.ToString(), "pending -> cancelled", now - 5),
            (KeyRing.ConfiguredKeyName, "key.create", "ops-desk", "role submit", now - 5),
        }, trail.Select(entry => (entry.KeyName, entry.Action, entry.Target!, entry.Detail!, entry.At)));

        var page = (await admin.GetFromJsonAsync<AuditEntry[]>($"/api/audit?limit=2&before_id={trail[1].Id}", WireJson.Options))!;
        Assert.Equal(trail[2..4], page);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/audit?limit=0")).StatusCode);
    }

    [Fact]
    public async Task TheCommandLineMakesListsAndRevokesKeysOnTheHostsDatabase()
    {
        var admin = factory.CreateApiClient();
        var (exit, stdout, stderr) = await HostCommand.RunAsync("keys", "add", "night-shift", "--role", "worker", "--database", factory.Database);
        Assert.True(exit == 0, stderr);
        var secret = stdout.Trim();
        Assert.Contains("shown again", stderr);
        var worker = factory.CreateApiClient(secret);
        Assert.StartsWith("""{"name":"night-shift","role":"worker","quota":null,"usage":{""", await worker.GetStringAsync("/api/keys/current"));

        (exit, stdout, stderr) = await HostCommand.RunAsync("keys", "list", "--database", factory.Database);
        Assert.True(exit == 0, stderr);
        Assert.Contains("night-shift", stdout);
        Assert.DoesNotContain(secret, stdout);

        (exit, _, stderr) = await HostCommand.RunAsync("keys", "add", "night-shift", "--role", "read", "--database", factory.Database);
        Assert.Equal(1, exit);
        Assert.Contains("exists", stderr);
        (exit, _, stderr) = await HostCommand.RunAsync("keys", "add", "x", "--role", "owner", "--database", factory.Database);
        Assert.NotEqual(0, exit);

        (exit, _, stderr) = await HostCommand.RunAsync("keys", "revoke", "night-shift", "--database", factory.Database);
        Assert.True(exit == 0, stderr);
        // Another process revoked it: this host stops accepting it once its one-second memory of the key lapses.
        await Eventually.TrueAsync(async () => (await worker.GetAsync("/api/jobs")).StatusCode == HttpStatusCode.Unauthorized, () => "the revoked key is refused");
        var trail = (await admin.GetFromJsonAsync<AuditEntry[]>("/api/audit", WireJson.Options))!;
        Assert.Equal(["key.revoke", "key.create"], trail.Select(entry => entry.Action));
        Assert.All(trail, entry => Assert.StartsWith("command line (", entry.KeyName));
    }

    /// <summary>
    /// The original service's finish without a body lets any worker key finish any running job: it is taken
    /// while the configured key is the only one (the original's clients keep working), refused with a line
    /// naming the setting once another key exists, and VIDEOENCODE_LEGACYFINISH decides when it is set.
    /// </summary>
    [Fact]
    public async Task ABodilessFinishIsTakenOnlyWhileNoKeyButTheConfiguredOneExistsUnlessTheSettingSays()
    {
        var admin = factory.CreateApiClient();
        Assert.Equal(HttpStatusCode.OK, await BodilessFinishAsync(admin));

        var worker = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "encoder-3", Roles.Worker));
        foreach (var client in new[] { worker, admin })
        {
            var job = (await admin.EnqueueAsync(QueueCalls.NewJob()))[0];
            Assert.Equal(job.Id, (await client.ClaimAsync())!.Id);
            var refused = await client.PostAsync($"/api/jobs/{job.Id}/finish", null);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("VIDEOENCODE_LEGACYFINISH", await QueueCalls.ErrorOf(refused));
            Assert.Equal(JobStatus.InProgress, (await admin.GetJobAsync(job.Id)).Status);
        }

        using var allowed = new QueueFactory(settings: new Dictionary<string, string?> { ["LegacyFinish"] = "true" });
        await KeyCalls.CreateKeyAsync(allowed.CreateApiClient(), "encoder-4", Roles.Worker);
        Assert.Equal(HttpStatusCode.OK, await BodilessFinishAsync(allowed.CreateApiClient()));
        using var refusedAlways = new QueueFactory(settings: new Dictionary<string, string?> { ["LegacyFinish"] = "false" });
        Assert.Equal(HttpStatusCode.BadRequest, await BodilessFinishAsync(refusedAlways.CreateApiClient()));
    }

    private static async Task<HttpStatusCode> BodilessFinishAsync(HttpClient client)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob()))[0];
        Assert.Equal(job.Id, (await client.GetFromJsonAsync<Job>("/api/jobs/claim", WireJson.Options))!.Id);
        return (await client.PostAsync($"/api/jobs/{job.Id}/finish", null)).StatusCode;
    }

    /// <summary>
    /// A stream's key is checked when it opens and again at each keep-alive: the stream of a key revoked
    /// meanwhile ends, saying why, while the configured key's stream goes on.
    /// </summary>
    [Fact]
    public async Task TheEventStreamOfARevokedKeyEndsAtItsNextKeepAlive()
    {
        using var host = new QueueFactory(settings: new Dictionary<string, string?> { ["EventKeepAliveSeconds"] = "0.2" });
        var admin = host.CreateApiClient();
        var wallboard = host.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "wallboard", Roles.Read));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (revokedStream, revokedResponse) = await OpenStreamAsync(wallboard, patience.Token);
        var (adminStream, adminResponse) = await OpenStreamAsync(admin, patience.Token);
        using (revokedResponse)
        using (adminResponse)
        {
            // The key works: its stream is kept alive.
            Assert.Equal(": keep-alive", await NextCommentAsync(revokedStream, patience.Token));

            (await admin.DeleteAsync("/api/keys/wallboard")).EnsureSuccessStatusCode();

            var rest = await revokedStream.ReadToEndAsync(patience.Token);
            Assert.Contains(": the API key no longer works", rest);
            Assert.Equal(": keep-alive", await NextCommentAsync(adminStream, patience.Token));
        }
    }

    /// <summary>
    /// A claim waiting for work asks for its key again when it wakes: a key revoked while it waited gets 401,
    /// not the job, which stays pending for a worker whose key works.
    /// </summary>
    [Fact]
    public async Task AWaitingClaimOfAKeyRevokedMeanwhileGetsNoJob()
    {
        var admin = factory.CreateApiClient();
        var worker = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "encoder-5", Roles.Worker));
        var waiting = worker.PostAsJsonAsync("/api/jobs/claim", new { worker = "w5", wait = 30 });
        var waiters = factory.GetService<Changes.ClaimWaiters>();
        await Eventually.TrueAsync(() => waiters.Count == 1, () => "the claim waits");

        (await admin.DeleteAsync("/api/keys/encoder-5")).EnsureSuccessStatusCode();
        var job = (await admin.EnqueueAsync(QueueCalls.NewJob()))[0];

        var answer = await waiting;
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal("Unauthorized", await QueueCalls.ErrorOf(answer));
        Assert.Equal(JobStatus.Pending, (await admin.GetJobAsync(job.Id)).Status);
        Assert.Equal(job.Id, (await admin.ClaimAsync())!.Id);
    }

    private static async Task<(StreamReader Lines, HttpResponseMessage Response)> OpenStreamAsync(HttpClient client, CancellationToken cancel)
    {
        var response = await client.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        Assert.Equal(": connected", await NextCommentAsync(lines, cancel));
        return (lines, response);
    }

    private static async Task<string?> NextCommentAsync(StreamReader lines, CancellationToken cancel)
    {
        while (await lines.ReadLineAsync(cancel) is { } line)
            if (line.StartsWith(':')) return line;
        return null;
    }
}
