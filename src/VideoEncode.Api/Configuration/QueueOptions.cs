namespace VideoEncode.Api.Configuration;

/// <summary>
/// The host's settings, bound from the configuration root so that the environment variables
/// read naturally: VIDEOENCODE_APIKEY, VIDEOENCODE_DATABASE, VIDEOENCODE_CORSORIGINS.
/// </summary>
public sealed class QueueOptions
{
    /// <summary>The key every /api request must send in X-API-Key. The host refuses to start without one.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Path of the SQLite file; its folder is created when missing.</summary>
    public string Database { get; set; } = "data/videoencode.db";

    /// <summary>"*" (any origin, as the original service) or a comma-separated list of allowed origins.</summary>
    public string CorsOrigins { get; set; } = "*";
}
