using VideoEncode.Contracts;

namespace VideoEncode.Api.Versioning;

/// <summary>
/// The host's own --version and --help. Everything else on its command line is ASP.NET configuration
/// (--urls, --Database=…), so only these two words, alone, are taken here.
/// </summary>
internal static class HostHelp
{
    public static string VersionLine => $"videoencode-host {Versions.Product} (protocol {Versions.Protocol})";

    /// <summary>Null when the arguments ask for neither; otherwise what to print before exiting 0.</summary>
    public static string? Answer(string[] args) => args switch
    {
        ["--version"] => VersionLine,
        ["--help" or "-h" or "-?"] => Text,
        _ => null,
    };

    // Written for someone who unpacked a release; running from the source tree is the last paragraph.
    private static string Text => $"""
        {VersionLine}: the queue, REST API and pages of a VideoEncode farm.

        Usage:
          videoencode-host [--urls http://0.0.0.0:5000] [--Setting=value …]
          videoencode-host keys add|list|revoke …     manage API keys (see keys --help)
          videoencode-host backup --to FILE           a consistent copy of the SQLite queue
          videoencode-host migrate --from FILE --to DATABASE   copy a SQLite queue into PostgreSQL
          videoencode-host --version | --help

        Settings come from appsettings.json beside the program, the environment and the command line:
          VIDEOENCODE_APIKEY      the admin key clients send in X-API-Key (required; more keys: keys add)
          VIDEOENCODE_DATABASE    the SQLite file (default data/videoencode.db) or a PostgreSQL connection string
          VIDEOENCODE_MEDIA       where uploaded videos and their results are kept (default data/media)
          OTEL_EXPORTER_OTLP_ENDPOINT   send OpenTelemetry traces there (off when unset)
        Every setting is listed in docs/configuration.md.

        Installed from a release, the systemd unit videoencode-host.service runs it (see INSTALL.md);
        GET /api/version answers its version without a key. From the source tree: ./run.sh.
        """;
}
