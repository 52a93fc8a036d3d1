using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VideoEncode.Api.Auth;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>Keys with roles: every route × every role, from the app's own endpoint list.</summary>
public sealed class RoleTests : IDisposable
{
    private readonly QueueFactory factory = new();

    public void Dispose() => factory.Dispose();

    /// <summary>
    /// Each route under /api is called with a key of each role: a role its rule does not grant gets 403
    /// with an error naming the role, one it grants never gets 401 or 403. Routes added later are in the
    /// matrix by themselves; a route that names no rule is expected to be admin-only.
    /// </summary>
    [Fact]
    public async Task EveryRouteAnswersEveryRoleAsItsAccessRuleSays()
    {
        var admin = factory.CreateApiClient();
        var job = (await admin.EnqueueAsync(QueueCalls.NewJob()))[0];
        var keys = new Dictionary<string, string>();
        foreach (var role in Roles.All) keys[role] = await KeyCalls.CreateKeyAsync(admin, $"matrix-{role}", role);

        var routes = ApiRoutes(job.Id);
        Assert.True(routes.Count >= 15, $"expected the job, key and operations routes, found {routes.Count}");
        var checkedPairs = new HashSet<(string Role, bool Allowed)>();
        foreach (var (method, path, rule) in routes)
            foreach (var role in Roles.All)
            {
                var (status, refusal) = await SendAsync(factory.CreateApiClient(keys[role]), method, path);
                var allowed = rule.Grants(role);
                checkedPairs.Add((role, allowed));
                if (allowed)
                    Assert.True(status is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"{method} {path} as {role}: {status} {refusal}");
                else
                {
                    Assert.True(status == HttpStatusCode.Forbidden, $"{method} {path} as {role}: {status}, expected 403");
                    if (method != "HEAD") Assert.Contains($"role '{role}'", refusal); // a HEAD's answer has no body
                }
            }
        // Every role was seen allowed somewhere, and every role but admin refused somewhere.
        foreach (var role in Roles.All)
        {
            Assert.Contains((role, true), checkedPairs);
            Assert.Equal(role != Roles.Admin, checkedPairs.Contains((role, false)));
        }
    }

    /// <summary>The roles as the issue defines them, route by route, so the rules themselves are checked, not only their enforcement.</summary>
    [Theory]
    [InlineData("POST /api/jobs", "admin submit")]
    [InlineData("GET /api/jobs", "admin submit worker read")]
    [InlineData("POST /api/jobs/{id}/cancel", "admin submit")]
    [InlineData("POST /api/jobs/{id}/retry", "admin submit")]
    [InlineData("DELETE /api/jobs/{id}", "admin")]
    [InlineData("POST /api/jobs/{id}/reset", "admin")]
    [InlineData("GET /api/jobs/claim", "admin worker")]
    [InlineData("POST /api/jobs/claim", "admin worker")]
    [InlineData("POST /api/jobs/{id}/heartbeat", "admin worker")]
    [InlineData("POST /api/jobs/{id}/finish", "admin worker")]
    [InlineData("POST /api/jobs/{id}/fail", "admin worker")]
    [InlineData("POST /api/jobs/{id}/release", "admin worker")]
    [InlineData("GET /api/stats", "admin submit worker read")]
    [InlineData("GET /api/workers", "admin submit worker read")]
    [InlineData("GET /api/events", "admin submit worker read")]
    [InlineData("GET /metrics", "admin submit worker read")]
    [InlineData("POST /api/keys", "admin")]
    [InlineData("GET /api/keys", "admin")]
    [InlineData("DELETE /api/keys/{name}", "admin")]
    [InlineData("GET /api/audit", "admin")]
    [InlineData("OPTIONS /api/uploads", "admin submit worker read")]
    [InlineData("GET /api/uploads", "admin")]
    [InlineData("POST /api/uploads", "admin submit worker")]
    [InlineData("HEAD /api/uploads/{id}", "admin submit worker")]
    [InlineData("PATCH /api/uploads/{id}", "admin submit worker")]
    [InlineData("DELETE /api/uploads/{id}", "admin submit worker")]
    [InlineData("GET /api/jobs/{id}/input", "admin submit worker read")]
    [InlineData("GET /api/jobs/{id}/output", "admin submit worker read")]
    [InlineData("GET /api/profiles", "admin submit worker read")]
    [InlineData("PUT /api/profiles/{name}", "admin submit")]
    [InlineData("DELETE /api/profiles/{name}", "admin submit")]
    [InlineData("GET /api/encode-options", "admin submit worker read")]
    public void TheRolesAreTheIssuesRoles(string route, string allowedRoles)
    {
        var (method, pattern) = (route.Split(' ')[0], route.Split(' ')[1]);
        var endpoint = factory.GetService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Single(endpoint =>
            "/" + endpoint.RoutePattern.RawText!.TrimStart('/').TrimEnd('/') == pattern
            && Methods(endpoint).Contains(method));
        var rule = endpoint.Metadata.GetMetadata<AccessRule>() ?? AccessRule.AdminOnly;
        Assert.Equal(allowedRoles, string.Join(' ', Roles.All.Where(rule.Grants)));
    }

    [Fact]
    public async Task AWorkersKeyConfirmsTheCancelOfAJobItHoldsButCannotCancelOthers()
    {
        var admin = factory.CreateApiClient();
        var worker = factory.CreateApiClient(await KeyCalls.CreateKeyAsync(admin, "encoder-1", Roles.Worker));
        await admin.EnqueueAsync(QueueCalls.NewJob("held.mkv"));
        var held = (await worker.ClaimAsync())!;
        var other = (await admin.EnqueueAsync(QueueCalls.NewJob("other.mkv")))[0];

        var refused = await worker.PostAsync($"/api/jobs/{other.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("claim_token", await QueueCalls.ErrorOf(refused));
        Assert.Equal(JobStatus.Pending, (await admin.GetJobAsync(other.Id)).Status);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/jobs/{held.Id}/cancel", null)).StatusCode);
        var confirmed = await worker.PostAsJsonAsync($"/api/jobs/{held.Id}/cancel", new ClaimProof(held.ClaimToken!), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await admin.GetJobAsync(held.Id)).Status);
    }

    /// <summary>
    /// Right keys take nothing from an address's allowance; once wrong ones have spent it, the address is
    /// answered 429 without its key being checked — the right key too, or guessing would run at full speed
    /// and the right guess be let in.
    /// </summary>
    [Fact]
    public async Task RepeatedWrongKeysFromOneAddressStopEveryKeyFromItTheRightOneToo()
    {
        using var limited = new QueueFactory(settings: new Dictionary<string, string?> { ["WrongKeysPerMinute"] = "3" });
        var right = limited.CreateApiClient();
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("/api/jobs")).StatusCode);
        var guesser = limited.CreateApiClient("guess");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/jobs")).StatusCode);

        var slowed = await guesser.GetAsync("/api/jobs");
        Assert.Equal(HttpStatusCode.TooManyRequests, slowed.StatusCode);
        Assert.True(slowed.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {slowed.Headers.RetryAfter}");
        Assert.Contains("Too many wrong API keys", await QueueCalls.ErrorOf(slowed));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await limited.CreateApiClient(key: null).GetAsync("/api/stats")).StatusCode);

        // Same address, right key: not checked while the allowance is spent, and nothing done.
        var refused = await right.PostAsJsonAsync("/api/jobs", QueueCalls.NewJob(), WireJson.Options);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await right.GetAsync("/api/jobs")).StatusCode);
        Assert.Null(await limited.GetService<Jobs.IJobStore>().GetAsync(1));
    }

    /// <summary>Every route under /api (and /metrics) with its rule, its parameters filled in: {id} with a real job, {name} with no key's.</summary>
    private List<(string Method, string Path, AccessRule Rule)> ApiRoutes(long jobId) =>
        factory.GetService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText!.TrimStart('/') is var raw
                               && (raw.StartsWith("api", StringComparison.Ordinal) || raw.StartsWith("metrics", StringComparison.Ordinal))
                               // The one route under /api that needs no key (VersionTests).
                               && "/" + raw != Versions.VersionPath)
            .SelectMany(endpoint => Methods(endpoint).Select(method => (method,
                path: "/" + string.Join('/', endpoint.RoutePattern.RawText!.TrimStart('/').Split('/').Select(segment => segment switch
                {
                    "{id}" => jobId.ToString(),
                    ['{', ..] => "nobody",
                    _ => segment,
                })),
                rule: endpoint.Metadata.GetMetadata<AccessRule>() ?? AccessRule.AdminOnly)))
            .ToList();

    /// <summary>The methods a route answers; /metrics (prometheus-net) names none and answers GET.</summary>
    private static IReadOnlyList<string> Methods(RouteEndpoint endpoint) => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];

    /// <summary>
    /// Sends an empty JSON object to routes that take a body. The body of a refusal is read; any other
    /// answer is abandoned once its headers arrive, as /api/events never ends.
    /// </summary>
    private static async Task<(HttpStatusCode Status, string? Refusal)> SendAsync(HttpClient client, string method, string path)
    {
        using var abandon = new CancellationTokenSource();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method is "GET" or "DELETE" or "HEAD" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead, abandon.Token);
        var refusal = response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized && method != "HEAD" ? await QueueCalls.ErrorOf(response) : null;
        await abandon.CancelAsync();
        return (response.StatusCode, refusal);
    }
}
