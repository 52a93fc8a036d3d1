using VideoEncode.Api.Jobs.Drivers;
using VideoEncode.Api.Jobs.Heartbeats;
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
using VideoEncode.Api.Upkeep;
using VideoEncode.Api.Webhooks;
using VideoEncode.Api.Workers;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Extensions;

/// <summary>The host's services and middleware, so Program.cs reads as a table of contents.</summary>
public static class QueueSetup
{
    /// <summary>
    /// The settings (appsettings.json, then VIDEOENCODE_* variables, then <paramref name="database"/> when a
    /// command-line tool names one), the store the Database setting names — SQLite or PostgreSQL, chosen here
    /// once — and every service of the host.
    /// </summary>
    public static WebApplicationBuilder AddQueue(this WebApplicationBuilder builder, string? database = null)
    {
        builder.Configuration.AddEnvironmentVariables(SettingNames.EnvironmentPrefix);
        if (database is not null) builder.Configuration.AddInMemoryCollection([new(nameof(QueueOptions.Database), database)]);
        var services = builder.Services;
        var setting = builder.Configuration[nameof(QueueOptions.Database)] ?? new QueueOptions().Database;
        services.AddOptions<QueueOptions>().Bind(builder.Configuration).ValidateOnStart();
        DatabaseLocation location;
        try
        {
            location = DatabaseLocation.Parse(setting);
        }
        catch (ArgumentException e)
        {
            // No store to register: the options' validation stops the host (and the tools) with this line first.
            services.AddOptions<QueueOptions>().Validate(_ => false, $"Cannot read {SettingNames.DatabaseVariable}: {e.Message}.");
            return builder;
        }
        services.AddSingleton(location);
        // The store was chosen from the setting as it stood at registration; a later source that changed it
        // (a test host's configuration, say) would leave the options naming one database and the store using another.
        services.AddOptions<QueueOptions>().Validate(options => options.Database == setting,
            $"{nameof(QueueOptions.Database)} changed after the store was chosen: set it before the host is built.");
        if (location.IsShared) services.AddPostgresQueue(location.PostgresConnectionString!);
        else services.AddSqliteQueue(location.SqlitePath!);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<HostIdentity>();
        services.AddSingleton<JobEvents>();
        services.AddSingleton<QueueMetrics>();
        services.AddSingleton<LiveClaims>();         // heartbeats that only report progress, answered from memory
        services.AddSingleton<JobChangeSink>();
        // What acts on committed changes registers itself with the sink (the webhook signal in AddWebhooks).
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<ClaimWaiters>());
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<LiveClaims>());
        services.AddSingleton<IJobChangeListener>(sp => sp.GetRequiredService<JobEvents>());
        services.AddSingleton<IJobChangeListener, ChangeCounters>();
        services.AddSingleton<ChangeJournal>();
        services.AddSingleton<IJobChangeRecorder, JobActionAudit>(); // before the webhook outbox's (AddWebhooks), as the journal always wrote them
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<ProfileStore>();
        services.AddSingleton<QueueControl>();
        services.AddSingleton<WorkerDrains>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<Quotas.QuotaStore>();
        services.AddSingleton<Schedules.ScheduleStore>();
        services.AddSingleton<KeyRing>();
        services.AddSingleton<WrongKeyLimiter>();
        services.AddWebhooks();
        services.AddUploads();                    // the media store: tus uploads and downloads
        services.AddUpkeep();                     // a round every LeaseSweepSeconds: lapsed leases, ended backoffs, the leader's chores
        services.AddSingleton<ProgressFlusher>();
        services.AddHostedService(provider => provider.GetRequiredService<ProgressFlusher>());
        services.ConfigureHttpJsonOptions(json => WireJson.Configure(json.SerializerOptions));
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<QueueOptions>>((cors, queue) =>
            cors.AddDefaultPolicy(policy => ConfigureCors(policy, queue.Value.CorsOrigins)));
        return builder;
    }

    /// <summary>One host alone on a SQLite file: the single writer, the search indexer, and the host always leads the upkeep.</summary>
    private static void AddSqliteQueue(this IServiceCollection services, string path)
    {
        services.AddSingleton<IValidateOptions<QueueOptions>>(new QueueOptionsValidation(sharedStore: false));
        services.AddSingleton(_ => new QueueDatabase(path));
        services.AddSingleton<SqliteWriter>();
        services.AddSingleton(_ => new ClaimWaiters(recheckAfter: null));
        services.AddSingleton<IStoreSql, SqliteStoreSql>();
        services.AddSingleton<IQueueDriver<SqliteConnection>, SqliteQueueDriver>();
        services.AddSingleton<IJobStore, JobLifecycle<SqliteConnection>>();
        services.AddSingleton<StatsStore, SqliteStatsStore>();
        services.AddSingleton<WorkerList, SqliteWorkerList>();
        services.AddSingleton<ILeadership, SoleHost>();
        services.AddSingleton<SqliteSearchIndexer>();
        services.AddHostedService(provider => provider.GetRequiredService<SqliteSearchIndexer>());
    }

    /// <summary>
    /// Hosts sharing one PostgreSQL queue: each hears the others' changes through the shared feed, one at a
    /// time leads the upkeep, and waiting claims look again every second for jobs another host made claimable.
    /// </summary>
    private static void AddPostgresQueue(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton<IValidateOptions<QueueOptions>>(new QueueOptionsValidation(sharedStore: true));
        services.AddSingleton(_ => new PostgresDatabase(connectionString));
        services.AddSingleton(_ => new ClaimWaiters(recheckAfter: TimeSpan.FromSeconds(1)));
        services.AddSingleton<IStoreSql, PostgresStoreSql>();
        services.AddSingleton<IQueueDriver<NpgsqlConnection>, PostgresQueueDriver>();
        services.AddSingleton<IJobStore, JobLifecycle<NpgsqlConnection>>();
        services.AddSingleton<StatsStore, PostgresStatsStore>();
        services.AddSingleton<WorkerList, PostgresWorkerList>();
        services.AddSingleton<ILeadership, PostgresLeadership>();
        services.AddSingleton<SharedChangeFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<SharedChangeFeed>());
    }

    /// <summary>
    /// Refuses to run with a setting that cannot work (<see cref="QueueOptionsValidation"/>), without an API
    /// key or with one too easy to guess (<see cref="KeyStrength"/>), and opens the database (applying schema.sql, or schema.postgres.sql) and the media folder before
    /// the first request, so a bad path, a broken file or an unreachable server is reported at start-up, not
    /// on first use. Returns one line for the operator when the host cannot start.
    /// </summary>
    public static string? Prepare(this WebApplication app)
    {
        if (app.OptionsProblem() is { } problem) return problem;
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        if (string.IsNullOrWhiteSpace(options.ApiKey))
            return $"No API key is set. Set {SettingNames.ApiKeyVariable} (or ApiKey in appsettings.json, or --ApiKey on the command line); " +
                   "clients send it in the X-API-Key header. ./run.sh makes one for local use.";
        if (KeyStrength.Problem(options.ApiKey) is { } weak) return weak;
        return app.PrepareStore() ?? app.PrepareMedia();
    }

    /// <summary>The settings that break a rule of <see cref="QueueOptionsValidation"/>, on one line, or null.</summary>
    private static string? OptionsProblem(this WebApplication app)
    {
        try
        {
            _ = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException e)
        {
            return string.Join(" ", e.Failures);
        }
    }

    /// <summary>
    /// Opens the configured database (applying schema.sql, or schema.postgres.sql) and answers a message
    /// for the operator when it cannot be used. The host calls it through <see cref="Prepare"/>; the
    /// command-line tools (keys, backup) call it alone, as they need the database but no API key.
    /// </summary>
    public static string? PrepareStore(this WebApplication app)
    {
        if (app.OptionsProblem() is { } problem) return problem;
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        var variable = SettingNames.DatabaseVariable;
        if (app.Services.GetRequiredService<DatabaseLocation>().IsShared)
        {
            var database = app.Services.GetRequiredService<PostgresDatabase>();
            try
            {
                PostgresSchemaMigrator.MigrateAsync(database.DataSource).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return $"Cannot use the PostgreSQL {database.Describe()} (check {variable}, and that the server is up " +
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
            return $"Cannot open the database '{options.Database}' (set {variable} to a writable path): {e.Message}";
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
        // The tus headers and methods too (tus-js-client in a page on another origin), and the answers' tus headers readable by it.
        policy.WithHeaders("Content-Type", ApiKeyMiddleware.HeaderName, Tus.ResumableHeader, Tus.UploadLengthHeader, Tus.UploadOffsetHeader,
                Tus.UploadMetadataHeader, Tus.UploadChecksumHeader, Tus.MethodOverrideHeader)
            .WithMethods("GET", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS")
            .WithExposedHeaders("Location", Tus.UploadOffsetHeader, Tus.UploadLengthHeader, Tus.UploadExpiresHeader, Tus.UploadMetadataHeader,
                Tus.ResumableHeader, Tus.VersionHeader, Tus.ExtensionHeader, Tus.MaxSizeHeader, Tus.ChecksumAlgorithmHeader);
    }
}
