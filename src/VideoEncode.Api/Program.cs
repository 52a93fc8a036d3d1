using VideoEncode.Api.Jobs.Http;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Backup;
using VideoEncode.Api.Events;
using VideoEncode.Api.Extensions;
using VideoEncode.Api.Http;
using VideoEncode.Api.Jobs;
using VideoEncode.Api.Metrics;
using VideoEncode.Api.Migration;
using VideoEncode.Api.Profiles;
using VideoEncode.Api.Queue;
using VideoEncode.Api.Schedules;
using VideoEncode.Api.Stats;
using VideoEncode.Api.Uploads;
using VideoEncode.Api.Versioning;
using VideoEncode.Api.Webhooks;
using VideoEncode.Api.Workers;

if (HostHelp.Answer(args) is { } answer)                                         // --version, --help: print, exit 0
{
    Console.WriteLine(answer);
    return 0;
}
if (args is [MigrateCommand.Name, ..]) return await MigrateCommand.RunAsync(args);   // `migrate --from FILE --to DATABASE`: copy a SQLite queue into PostgreSQL, then exit
if (args is [KeysCommand.Name, ..]) return await KeysCommand.RunAsync(args, CommandServices.Open); // `keys add|list|revoke`: manage the API keys on the database, then exit
if (args is [BackupCommand.Name, ..]) return await BackupCommand.RunAsync(args);     // `backup --to FILE`: a consistent copy of the SQLite queue while the host runs

var builder = WebApplication.CreateBuilder(args);
builder.AddQueue();                          // options (VIDEOENCODE_*), SQLite or PostgreSQL, the job store, the media store, JSON, CORS
builder.Services.AddApiDocumentation();      // Swagger with the X-API-Key scheme
builder.AddTracing();                        // OpenTelemetry traces over OTLP, only when OTEL_EXPORTER_OTLP_ENDPOINT is set

var app = builder.Build();
if (app.Prepare() is { } problem)            // bad settings, no API key, a media folder or a database that cannot be used: one line, exit 1
{
    Console.Error.WriteLine(problem);
    return 1;
}

app.UseRequestMetrics();                     // request durations by route and final status, for /metrics
app.UseJsonErrors();                         // errors keep the {"error": ...} shape; never a stack trace; 503 when overloaded
app.UseQueue();                              // CORS, then the API key on everything under /api and on /metrics
app.UseApiDocumentation();                   // /swagger
app.UsePages();                              // /, /add-jobs/, /view-jobs/ from wwwroot

app.MapGet("/health", () => new HealthStatus("ok")).WithTags("Health");
app.MapVersion();                            // GET /api/version, no key: version, protocol, schema step
app.MapJobs();                               // the jobs, their bulk actions, the workers' steps and a job's media
app.MapProfiles();                           // named encode settings at /api/profiles; the choices at /api/encode-options
app.MapStats();
app.MapEvents();
app.MapQueueMetrics();
app.MapKeys();
app.MapAudit();
app.MapBackup();
app.MapQueue();
app.MapSchedules();                          // when the queue, or one worker, gets work
app.MapWorkers();                            // the workers seen, and one worker's drain
app.MapWebhooks();
app.MapUploads();                            // tus 1.0 uploads at /api/uploads

app.Logger.LogInformation("{Version} starting", HostHelp.VersionLine);
app.Run();
return 0;

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
