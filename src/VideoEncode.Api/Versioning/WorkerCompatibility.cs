using VideoEncode.Contracts;

namespace VideoEncode.Api.Versioning;

/// <summary>
/// Whether this host can serve the worker that sent a claim, from its <see cref="Versions.WorkerHeader"/>.
/// A claim without the header (the original service's clients, scripts, workers older than the header) is served
/// as it always was. A worker speaking a protocol outside what this host serves is refused with a message naming
/// both versions and which side to upgrade; the worker prints it and exits rather than retrying forever.
/// </summary>
public static class WorkerCompatibility
{
    /// <summary>Null when the claim may go ahead; otherwise the reason it may not.</summary>
    public static Refusal? Check(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        if (Versions.ParseWorkerHeader(header) is not { } worker)
            return new Refusal.Malformed($"{Versions.WorkerHeader} must be NAME/VERSION/PROTOCOL (protocol a whole number), not '{Shorten(header)}'.");
        var host = Versions.Product;
        var hostProtocol = Versions.Protocol;
        if (worker.Protocol > hostProtocol)
            return new Refusal.Unsupported(new VersionMismatch(
                $"This worker ({worker.Version}, protocol {worker.Protocol}) is newer than the host ({host}, protocol {hostProtocol}), which cannot serve it: " +
                $"upgrade the host to {worker.Version}, or run a worker of version {host}.",
                host, hostProtocol, worker.Version, worker.Protocol));
        if (worker.Protocol < Versions.MinWorkerProtocol)
            return new Refusal.Unsupported(new VersionMismatch(
                $"This worker ({worker.Version}, protocol {worker.Protocol}) is older than the host ({host}, protocol {hostProtocol}) serves " +
                $"(protocol {Versions.MinWorkerProtocol} or later): upgrade the worker to {host}.",
                host, hostProtocol, worker.Version, worker.Protocol));
        return null;
    }

    /// <summary>The version a claim's header gives, to show in the workers list; null without a readable header.</summary>
    public static string? VersionOf(string? header) =>
        string.IsNullOrEmpty(header) ? null : Versions.ParseWorkerHeader(header)?.Version is { Length: > 0 and <= 64 } version ? version : null;

    /// <summary>Whether the worker that sent <paramref name="header"/> runs tasks (<see cref="Versions.TasksProtocol"/>).</summary>
    public static bool TakesTasks(string? header) =>
        !string.IsNullOrEmpty(header) && Versions.ParseWorkerHeader(header) is { } worker && worker.Protocol >= Versions.TasksProtocol;

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";

    public abstract record Refusal
    {
        /// <summary>400: the header cannot be read.</summary>
        public sealed record Malformed(string Message) : Refusal;

        /// <summary>426 Upgrade Required: the protocols do not meet.</summary>
        public sealed record Unsupported(VersionMismatch Answer) : Refusal;
    }
}
