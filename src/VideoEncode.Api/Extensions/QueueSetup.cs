using VideoEncode.Api.Changes;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Cluster;
using VideoEncode.Api.Database;
using VideoEncode.Api.Database.Postgres;
using VideoEncode.Api.Database.Sqlite;
using Npgsql;
using VideoEncode.Api.Events;
using VideoEncode.Api.Metrics;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Profiles;
using VideoEncode.Api.Queue;
using VideoEncode.Api.Stats;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Webhooks;
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
        services.AddSingleton(sp => DatabaseLocation.Parse(sp.GetRequiredService<IOptions<QueueOptions>>().Value.Database));
        services.AddSingleton<HostIdentity>();
        services.AddSingleton(sp => new ClaimWaiters(sp.GetRequiredService<DatabaseLocation>().IsShared ? TimeSpan.FromSeconds(1) : null));
        services.AddSingleton<JobEvents>();
        services.AddSingleton<QueueMetrics>();
        services.AddSingleton<LiveClaims>();         // heartbeats that only report progress, answered from memory
        services.AddSingleton<JobChangeSink>();
        // What acts on committed changes registers itself with the sink (the webhook signal in AddWebhooks).
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<ClaimWaiters>());
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<LiveClaims>());
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<JobEvents>());
        services.AddSingleton<IJobChangeListener, ChangeCounters>();
        // One store or the other, chosen by the Database setting once the configuration is complete.
        services.AddSingleton(sp => new QueueDatabase(sp.GetRequiredService<DatabaseLocation>().SqlitePath!));
        services.AddSingleton<SqliteWriter>();
        services.AddSingleton(sp => new PostgresDatabase(sp.GetRequiredService<DatabaseLocation>().PostgresConnectionString!));
        services.AddSingleton<SharedChangeFeed>();
        services.AddSingleton<IQueueDriver<SqliteConnection>, SqliteQueueDriver>();
        services.AddSingleton<IQueueDriver<NpgsqlConnection>, PostgresQueueDriver>();
        services.AddSingleton<IJobStore>(sp => OnStore<IJobStore, JobLifecycle<SqliteConnection>, JobLifecycle<NpgsqlConnection>>(sp));
        services.AddSingleton<StatsStore>(sp => OnStore<StatsStore, SqliteStatsStore, PostgresStatsStore>(sp));
        services.AddSingleton<ILeadership>(sp => OnStore<ILeadership, SoleHost, PostgresLeadership>(sp));
        services.AddSingleton<IStoreSql>(sp => OnStore<IStoreSql, SqliteStoreSql, PostgresStoreSql>(sp));
        services.AddSingleton<ChangeJournal>();
        services.AddSingleton<IJobChangeRecorder, JobActionAudit>(); // before the webhook outbox's (AddWebhooks), as the journal always wrote them
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<ProfileStore>();
        services.AddSingleton<QueueControl>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<KeyRing>();
        services.AddSingleton<WrongKeyLimiter>();
        services.AddWebhooks();
        services.AddUploads();                    // the media store: tus uploads, downloads, and the sweep the upkeep runs
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<DatabaseLocation>().IsShared
            ? sp.GetRequiredService<SharedChangeFeed>() : new NothingToRun());
        services.AddSingleton<SqliteSearchIndexer>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<DatabaseLocation>().IsShared
            ? new NothingToRun() : sp.GetRequiredService<SqliteSearchIndexer>());
        services.AddSingleton<JobRetention>();
        services.AddSingleton<LeaseKeeper>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaseKeeper>());
        services.AddSingleton<ProgressFlusher>();
        services.AddHostedService(provider => provider.GetRequiredService<ProgressFlusher>());
        services.ConfigureHttpJsonOptions(json => WireJson.Configure(json.SerializerOptions));
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<QueueOptions>>((cors, queue) =>
            cors.AddDefaultPolicy(policy => ConfigureCors(policy, queue.Value.CorsOrigins)));
        return builder;
    }

    /// <summary>
    /// Refuses to run without an API key, and opens the database (applying schema.sql, or
    /// schema.postgres.sql) before the first request, so a bad path, a broken file or an unreachable
    /// server is reported at start-up, not on first use.
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
                     ("RetryBackoffSeconds", options.RetryBackoffSeconds), ("MaxQueuedWrites", options.MaxQueuedWrites),
                     ("LeaderLeaseSeconds", options.LeaderLeaseSeconds) })
            if (value < 1)
                return $"{name} must be 1 or more (set {EnvironmentPrefix}{name.ToUpperInvariant()}), not {value}.";
        if (options.RetentionDays < 0)
            return $"RetentionDays must be 0 (keep ended jobs forever) or more (set {EnvironmentPrefix}RETENTIONDAYS), not {options.RetentionDays}.";
        return app.PrepareStore() ?? app.PrepareMedia();
    }

    /// <summary>
    /// Opens the configured database (applying schema.sql, or schema.postgres.sql) and answers a message
    /// for the operator when it cannot be used. The host calls it through <see cref="Prepare"/>; the
    /// command-line tools (keys, backup) call it alone, as they need the database but no API key.
    /// </summary>
    public static string? PrepareStore(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        DatabaseLocation location;
        try
        {
            location = app.Services.GetRequiredService<DatabaseLocation>();
        }
        catch (ArgumentException e)
        {
            return $"Cannot read {EnvironmentPrefix}DATABASE: {e.Message}.";
        }
        if (location.IsShared)
        {
            var database = app.Services.GetRequiredService<PostgresDatabase>();
            try
            {
                PostgresSchemaMigrator.MigrateAsync(database.DataSource).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return $"Cannot use the PostgreSQL {database.Describe()} (check {EnvironmentPrefix}DATABASE, and that the server is up " +
                       $"and the database exists): {e.Message}";
            }
            return null;
        }
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

    /// <summary>The SQLite or the PostgreSQL implementation of <typeparamref name="TService"/>, as the Database setting says.</summary>
    private static TService OnStore<TService, TSqlite, TPostgres>(IServiceProvider services)
        where TService : notnull where TSqlite : TService where TPostgres : TService =>
        services.GetRequiredService<DatabaseLocation>().IsShared
            ? ActivatorUtilities.CreateInstance<TPostgres>(services)
            : ActivatorUtilities.CreateInstance<TSqlite>(services);

    /// <summary>Stands in for a service one store does not need: the shared change feed on SQLite, the search indexer on PostgreSQL.</summary>
    private sealed class NothingToRun : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static void ConfigureCors(CorsPolicyBuilder policy, string origins)
    {
        if (origins.Trim() == "*")
            policy.AllowAnyOrigin();
        else
            policy.WithOrigins(origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // The tus headers and methods too (tus-js-client in a page on another origin), and the answers' tus headers readable by it.
        policy.WithHeaders("Content-Type", ApiKeyMiddleware.HeaderName, Tus.ResumableHeader, Tus.UploadLengthHeader, Tus.UploadOffsetHeader,
                Tus.UploadMetadataHeader, Tus.UploadChecksumHeader, Tus.MethodOverrideHeader)
            .WithMethods("GET", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS")
            .WithExposedHeaders("Location", Tus.UploadOffsetHeader, Tus.UploadLengthHeader, Tus.UploadExpiresHeader, Tus.UploadMetadataHeader,
                Tus.ResumableHeader, Tus.VersionHeader, Tus.ExtensionHeader, Tus.MaxSizeHeader, Tus.ChecksumAlgorithmHeader);
    }
}
