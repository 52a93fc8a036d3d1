namespace VideoEncode.Api.Cluster;

/// <summary>This host process among the hosts sharing a queue: new at every start, so a restarted host is a new one.</summary>
public sealed class HostIdentity
{
    public Guid Id { get; } = Guid.NewGuid();
}
