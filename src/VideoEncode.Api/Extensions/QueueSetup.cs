using VideoEncode.Api.Changes;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Database;
using VideoEncode.Api.Events;
using VideoEncode.Api.Metrics;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Stats;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Extensions;

/// <summary>The host's services and middleware, so Program.cs reads as a table of contents.</summary>
public static class QueueSetup
{
    public const string EnvironmentPrefix = "VIDEOENCODE_";

    public static WebApplicationBuilder AddQueue(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        var services = builder.Services;
        services.AddOptions<QueueOptions>().Bind(builder.Configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new QueueDatabase(sp.GetRequiredService<IOptions<QueueOptions>>().Value.Database));
        services.AddSingleton<SqliteWriter>();
        services.AddSingleton<ClaimWaiters>();
        services.AddSingleton<JobEvents>();
        services.AddSingleton<StatsStore>();
        services.AddSingleton<QueueMetrics>();
        services.AddSingleton<JobChangeSink>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<LeaseKeeper>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaseKeeper>());
        services.ConfigureHttpJsonOptions(json => WireJson.Configure(json.SerializerOptions));
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<QueueOptions>>((cors, queue) =>
            cors.AddDefaultPolicy(policy => ConfigureCors(policy, queue.Value.CorsOrigins)));
        return builder;
    }

    /// <summary>
    /// Refuses to run without an API key, and opens the database (applying schema.sql) before the
    /// first request, so a bad path or a broken file is reported at start-up, not on first use.
    /// Returns a message for the operator when the host cannot start.
    /// </summary>
    public static string? Prepare(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        if (string.IsNullOrWhiteSpace(options.ApiKey))
            return $"No API key is set. Set {EnvironmentPrefix}APIKEY (or ApiKey in appsettings.json, or --ApiKey on the command line); " +
                   "clients send it in the X-API-Key header. ./run.sh makes one for local use.";
        // A backoff of 0 would make a failed job claimable in a second the lease keeper has already looked at.
        foreach (var (name, value) in new[] { ("LeaseSeconds", options.LeaseSeconds), ("LegacyLeaseSeconds", options.LegacyLeaseSeconds),
                     ("RetryBackoffSeconds", options.RetryBackoffSeconds), ("MaxQueuedWrites", options.MaxQueuedWrites) })
            if (value < 1)
                return $"{name} must be 1 or more (set {EnvironmentPrefix}{name.ToUpperInvariant()}), not {value}.";
        try
        {
            app.Services.GetRequiredService<SqliteWriter>();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            return $"Cannot open the database '{options.Database}' (set {EnvironmentPrefix}DATABASE to a writable path): {e.Message}";
        }
        return null;
    }

    public static WebApplication UseQueue(this WebApplication app)
    {
        app.UseCors();
        app.UseMiddleware<ApiKeyMiddleware>();
        return app;
    }

    private static void ConfigureCors(CorsPolicyBuilder policy, string origins)
    {
        if (origins.Trim() == "*")
            policy.AllowAnyOrigin();
        else
            policy.WithOrigins(origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        policy.WithHeaders("Content-Type", ApiKeyMiddleware.HeaderName).WithMethods("GET", "POST", "DELETE");
    }
}
