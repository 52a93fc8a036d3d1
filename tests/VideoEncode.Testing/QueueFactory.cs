using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VideoEncode.Contracts;
using Xunit;

namespace VideoEncode.Testing;

/// <summary>
/// The host in-process on a fresh database of its own on the store under test (<see cref="TestStore"/>),
/// or a given one (to test restarts, or two hosts sharing a queue), with a known API key and every
/// log line kept for inspection.
/// </summary>
public sealed class QueueFactory(string? database = null, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    : WebApplicationFactory<Program>
{
    /// <summary>Strong enough for the host to start with (over 128 bits by <c>KeyStrength</c>'s estimate).</summary>
    public const string ApiKey = "test-key-5b1d0c7e-9f3a62d4c1e8b705";

    /// <summary>The SQLite path or PostgreSQL connection string this host keeps its queue in.</summary>
    public string Database { get; } = database ?? TestStore.NewDatabase();

    private readonly bool ownsDatabase = database is null;

    public ConcurrentQueue<string> LogLines { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Added last, so these win over appsettings.json and any VIDEOENCODE_* in the environment.
        // The media store beside the database unless the test names one.
        var media = settings is not null && settings.ContainsKey("Media") ? [] : new Dictionary<string, string?> { ["Media"] = TestStore.MediaFolder(Database) };
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["ApiKey"] = ApiKey,
            ["Database"] = Database,
        }).AddInMemoryCollection(media));
        if (clock is not null)
            builder.ConfigureServices(services => services.AddSingleton(clock));
        builder.ConfigureLogging(logging => logging.AddProvider(new CollectingLoggerProvider(LogLines)));
    }

    /// <summary>
    /// The host picks its store (SQLite or PostgreSQL) from the Database setting while Program registers its
    /// services, before ConfigureWebHost's configuration is applied (dotnet/aspnetcore#37680); host
    /// configuration reaches Program as command-line arguments, in time.
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        builder.ConfigureHostConfiguration(config => config.AddInMemoryCollection([new("Database", Database)]));
        return base.CreateHost(builder);
    }

    /// <summary>A client that sends <paramref name="key"/> (the right key unless told otherwise; null sends none).</summary>
    public HttpClient CreateApiClient(string? key = ApiKey)
    {
        var client = CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("X-API-Key", key);
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && ownsDatabase)
            TestStore.Delete(Database);
    }

    /// <summary>Serves the host on a free 127.0.0.1 port (real Kestrel, for browsers and workers) and answers its base address.</summary>
    public Uri StartOnLoopback()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        return new Uri(addresses.Addresses.First());
    }

    public T GetService<T>() where T : notnull => Services.GetRequiredService<T>();

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CollectingLogger(lines);
        public void Dispose() { }
    }

    private sealed class CollectingLogger(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
    }
}

/// <summary>Wire helpers shared by the API tests.</summary>
public static class QueueCalls
{
    public static async Task<Job[]> EnqueueAsync(this HttpClient client, params object[] jobs)
    {
        var response = await client.PostAsJsonAsync("/api/jobs", jobs, WireJson.Options);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
    }

    public static object NewJob(string fileName = "video.mp4", string crf = "23", string preset = "medium") =>
        new { file_name = fileName, crf, preset };

    public static async Task<Job[]> ListAsync(this HttpClient client, string query = "status=all&limit=1000")
    {
        var response = await client.GetAsync($"/api/jobs?{query}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
    }

    /// <summary>A claim, with <paramref name="body"/> ({"worker", "media", …}) when given; null when the host has no job for it.</summary>
    public static async Task<Job?> ClaimAsync(this HttpClient client, object? body = null)
    {
        var response = body is null ? await client.PostAsync("/api/jobs/claim", null) : await client.PostAsJsonAsync("/api/jobs/claim", body);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<Job>(WireJson.Options);
    }

    public static async Task<Job> GetJobAsync(this HttpClient client, long id) =>
        (await client.GetFromJsonAsync<Job>($"/api/jobs/{id}", WireJson.Options))!;

    public static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").GetString()!;
    }
}
