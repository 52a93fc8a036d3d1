using System.Reflection;

namespace VideoEncode.Contracts;

/// <summary>
/// The product's version and the protocol host and worker speak, defined once for both.
/// <see cref="Product"/> is the version the build was given (scripts/release.sh passes -p:Version=…;
/// a build from the source tree says 0.0.0-dev). <see cref="Protocol"/> counts changes to what a
/// worker and a host must agree on: raise it when a host could no longer serve an older worker (or an
/// older host a newer one), and raise <see cref="MinWorkerProtocol"/> with it when the host drops the older one.
/// </summary>
public static class Versions
{
    /// <summary>The protocol this build speaks.</summary>
    public const int Protocol = 2;

    /// <summary>The first protocol whose workers run tasks (<see cref="TaskKinds"/>): older workers get plain jobs only.</summary>
    public const int TasksProtocol = 2;

    /// <summary>The oldest worker protocol a host of this build serves.</summary>
    public const int MinWorkerProtocol = 1;

    /// <summary>
    /// Sent by the worker on each request, claims included: "NAME/VERSION/PROTOCOL" (the worker's --name,
    /// its <see cref="Product"/> version and its <see cref="Protocol"/>). A client without it (the original
    /// service's, scripts) is served as before.
    /// </summary>
    public const string WorkerHeader = "X-VideoEncode-Worker";

    /// <summary>GET /api/version: no key needed, so a worker or a person can compare versions before anything else.</summary>
    public const string VersionPath = "/api/version";

    /// <summary>The informational version without the source revision the SDK appends after a '+'.</summary>
    public static string Product { get; } =
        (typeof(Versions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0-dev").Split('+')[0];

    /// <summary>The value of <see cref="WorkerHeader"/> for a worker named <paramref name="worker"/>.</summary>
    public static string WorkerHeaderValue(string worker) => $"{worker}/{Product}/{Protocol}";

    /// <summary>
    /// Reads a <see cref="WorkerHeader"/> value: the name may hold '/', so the version and protocol are
    /// taken from the end. Null when it is not NAME/VERSION/PROTOCOL with a whole-number protocol.
    /// </summary>
    public static WorkerVersion? ParseWorkerHeader(string value)
    {
        var last = value.LastIndexOf('/');
        if (last <= 0) return null;
        var middle = value.LastIndexOf('/', last - 1);
        if (middle <= 0 || middle + 1 == last) return null;
        return int.TryParse(value.AsSpan(last + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var protocol)
            ? new WorkerVersion(value[..middle], value[(middle + 1)..last], protocol)
            : null;
    }
}

/// <summary>What a worker's <see cref="Versions.WorkerHeader"/> says of it.</summary>
public sealed record WorkerVersion(string Name, string Version, int Protocol);

/// <summary>GET /api/version's answer: the host's version, the protocol it speaks and its database schema's step.</summary>
public sealed record VersionInfo(string Version, int Protocol, int Schema);

/// <summary>
/// A 426 to a worker whose protocol the host cannot serve: both versions, and what to do, in
/// <c>error</c> as every error of the API has it.
/// </summary>
public sealed record VersionMismatch(string Error, string HostVersion, int HostProtocol, string WorkerVersion, int WorkerProtocol);
