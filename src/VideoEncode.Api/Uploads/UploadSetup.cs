using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Uploads;

/// <summary>The media store's services, and the check of its settings at start-up.</summary>
public static class UploadSetup
{
    public static IServiceCollection AddUploads(this IServiceCollection services)
    {
        services.AddSingleton<MediaStore>();
        services.AddSingleton<UploadStore>();
        services.AddSingleton<UploadSessions>();
        services.AddSingleton<UploadCompletion>();
        services.AddSingleton<UploadCreation>();
        services.AddSingleton<UploadReceiver>();
        services.AddSingleton<UploadTermination>();
        return services;
    }

    /// <summary>Why the Media folder cannot be used (it cannot be made or written), or null; its numbers are checked with the other settings (<see cref="QueueOptionsValidation"/>).</summary>
    public static string? PrepareMedia(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        return app.Services.GetRequiredService<MediaStore>().Prepare() is { } problem
            ? $"Cannot use the media folder '{options.Media}' (set {SettingNames.EnvironmentVariable(nameof(QueueOptions.Media))} to a folder this user can write): {problem}"
            : null;
    }
}
