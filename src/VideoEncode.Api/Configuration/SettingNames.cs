namespace VideoEncode.Api.Configuration;

/// <summary>
/// How the host's settings are named outside appsettings.json: environment variables carry the prefix
/// VIDEOENCODE_ and the setting's name in capitals (VIDEOENCODE_LEASESECONDS for LeaseSeconds). The
/// host, its commands and the messages that tell an operator what to set all take the names from here.
/// </summary>
public static class SettingNames
{
    public const string EnvironmentPrefix = "VIDEOENCODE_";

    /// <summary>The environment variable of a setting: "LeaseSeconds" → "VIDEOENCODE_LEASESECONDS".</summary>
    public static string EnvironmentVariable(string setting) => EnvironmentPrefix + setting.ToUpperInvariant();

    /// <summary>VIDEOENCODE_APIKEY, also the name the configured key goes by in the audit trail and on jobs.</summary>
    public static readonly string ApiKeyVariable = EnvironmentVariable(nameof(QueueOptions.ApiKey));

    /// <summary>VIDEOENCODE_MAXRESERVEDUPLOADBYTESPERKEY, which a creation refused for a key's reservations names.</summary>
    public static readonly string MaxReservedUploadBytesPerKeyVariable = EnvironmentVariable(nameof(QueueOptions.MaxReservedUploadBytesPerKey));

    /// <summary>VIDEOENCODE_DATABASE, which the commands (keys, backup, migrate) name in their help and messages.</summary>
    public static readonly string DatabaseVariable = EnvironmentVariable(nameof(QueueOptions.Database));

    /// <summary>VIDEOENCODE_LEGACYFINISH, named where a finish without a body is refused.</summary>
    public static readonly string LegacyFinishVariable = EnvironmentVariable(nameof(QueueOptions.LegacyFinish));
}
