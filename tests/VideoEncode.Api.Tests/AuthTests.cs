using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Routing;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

public sealed class AuthTests : IDisposable
{
    private readonly QueueFactory factory = new();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task HealthNeedsNoKey()
    {
        var response = await factory.CreateApiClient(key: null).GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Enumerates the app's own endpoints, so a route added later under /api without protection
    /// fails here rather than shipping open.
    /// </summary>
    [Fact]
    public async Task EveryApiRouteRejectsAMissingOrWrongKeyAndChangesNothing()
    {
        // So many wrong keys from one address would soon be answered 429 (see RoleTests); here every one must be 401.
        using var factory = new QueueFactory(settings: new Dictionary<string, string?> { ["WrongKeysPerMinute"] = "100000" });
        var job = (await factory.CreateApiClient().EnqueueAsync(QueueCalls.NewJob()))[0];
        var routes = factory.GetService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText!.TrimStart('/').StartsWith("api", StringComparison.Ordinal))
            // The one route under /api that needs no key (VersionTests).
            .Where(endpoint => "/" + endpoint.RoutePattern.RawText!.TrimStart('/') != Versions.VersionPath)
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Select(method => (method, path: "/" + endpoint.RoutePattern.RawText!.TrimStart('/').Replace("{id}", job.Id.ToString()))))
            .ToList();
        Assert.True(routes.Count >= 8, $"expected the job routes, found {routes.Count}");

        foreach (var key in new[] { null, "wrong-key", "", QueueFactory.ApiKey + "x", QueueFactory.ApiKey[..^1] })
        {
            var client = factory.CreateApiClient(key);
            foreach (var (method, path) in routes)
            {
                var request = new HttpRequestMessage(new HttpMethod(method), path)
                {
                    Content = method == "GET" ? null : JsonContent.Create(QueueCalls.NewJob()),
                };
                var response = await client.SendAsync(request);
                Assert.True(HttpStatusCode.Unauthorized == response.StatusCode, $"{method} {path} with key '{key}' answered {response.StatusCode}");
                Assert.Equal("""{"error":"Unauthorized"}""", await response.Content.ReadAsStringAsync());
            }
        }

        var after = await factory.CreateApiClient().ListAsync();
        var only = Assert.Single(after);
        Assert.Equal(JobStatus.Pending, only.Status);
    }

    [Fact]
    public async Task UnknownApiPathsAskForTheKeyBeforeSayingNotFound()
    {
        var response = await factory.CreateApiClient(key: null).GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var withKey = await factory.CreateApiClient().GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode);
        Assert.Equal("Not Found", await QueueCalls.ErrorOf(withKey));
    }

    [Fact]
    public async Task TheKeyNeverAppearsInTheLog()
    {
        var client = factory.CreateApiClient();
        await client.EnqueueAsync(QueueCalls.NewJob());
        await client.ClaimAsync();
        await factory.CreateApiClient("not-" + QueueFactory.ApiKey).GetAsync("/api/jobs");
        Assert.NotEmpty(factory.LogLines);
        Assert.DoesNotContain(factory.LogLines, line => line.Contains(QueueFactory.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SwaggerIsOpenAndDescribesTheKeyAndTheJobShape()
    {
        var client = factory.CreateApiClient(key: null);
        var ui = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        var document = await client.GetStringAsync("/swagger/v1/swagger.json");
        Assert.Contains("\"X-API-Key\"", document);
        Assert.Contains("\"file_name\"", document);
        Assert.Contains("\"created_at\"", document);
        Assert.Contains("/api/jobs/{id}/finish", document);
    }

    [Fact]
    public async Task CorsAllowsAnyOriginWithTheKeyHeaderByDefault()
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/jobs");
        preflight.Headers.Add("Origin", "http://example.test");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-api-key");
        var response = await factory.CreateApiClient(key: null).SendAsync(preflight);
        Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("x-api-key", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
    }
}
