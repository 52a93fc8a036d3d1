namespace VideoEncode.Api.Extensions;

/// <summary>
/// The host's services for a command-line tool (`keys`, `backup`) that works on the configured
/// database without serving HTTP: the same settings as the host (appsettings.json, VIDEOENCODE_*),
/// with --database winning, and the schema brought up to date as at start-up.
/// </summary>
internal static class CommandServices
{
    /// <summary>The opened services, or a message for the operator when the database cannot be used.</summary>
    public static (WebApplication? App, string? Problem) Open(string? database)
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddQueue(database);
        // The tool's output is what it prints; the host's information logs would bury it.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        if (app.PrepareStore() is { } problem)
        {
            ((IDisposable)app).Dispose();
            return (null, problem);
        }
        return (app, null);
    }
}
