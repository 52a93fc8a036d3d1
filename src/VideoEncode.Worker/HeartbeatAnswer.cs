namespace VideoEncode.Worker;

/// <summary>What one heartbeat came to. Heartbeats are never retried inside the call: the next beat is the retry.</summary>
public abstract record HeartbeatAnswer
{
    /// <summary>The lease is renewed; the host may ask for the encode to stop.</summary>
    public sealed record Renewed(bool CancelRequested) : HeartbeatAnswer;

    /// <summary>400: the host refused the report itself (say, a progress value it does not accept); nothing was renewed.</summary>
    public sealed record Refused(string Message) : HeartbeatAnswer;

    /// <summary>409 or 404: the claim is no longer ours (the job was reclaimed, reset or deleted).</summary>
    public sealed record Lost(string Message) : HeartbeatAnswer;

    /// <summary>No answer that says anything about the claim: the host is down, slow, or failing.</summary>
    public sealed record Unanswered(string Reason) : HeartbeatAnswer;
}
