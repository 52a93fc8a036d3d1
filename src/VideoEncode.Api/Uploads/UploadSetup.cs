using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Extensions;

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
        services.AddSingleton<UploadSweeper>();
        return services;
    }

    /// <summary>Why the media settings cannot work (a number out of range, a Media folder that cannot be made or written), or null.</summary>
    public static string? PrepareMedia(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<QueueOptions>>().Value;
        const string prefix = QueueSetup.EnvironmentPrefix;
        if (options.MaxUploadBytes < 0) return $"MaxUploadBytes must be 0 or more (set {prefix}MAXUPLOADBYTES), not {options.MaxUploadBytes}.";
        if (options.MediaReserveBytes < 0) return $"MediaReserveBytes must be 0 or more (set {prefix}MEDIARESERVEBYTES), not {options.MediaReserveBytes}.";
        // Zero would expire every upload as it is made.
        if (!(options.UploadExpiryHours > 0)) return $"UploadExpiryHours must be more than 0 (set {prefix}UPLOADEXPIRYHOURS), not {options.UploadExpiryHours}.";
        return app.Services.GetRequiredService<MediaStore>().Prepare() is { } problem
            ? $"Cannot use the media folder '{options.Media}' (set {prefix}MEDIA to a folder this user can write): {problem}"
            : null;
    }
}
