namespace VideoEncode.Contracts;

/// <summary>POST /api/jobs/claim's optional body: who claims, and how long to wait for a job (0–60 s).</summary>
public sealed record ClaimRequest(string? Worker = null, double? Wait = null)
{
    public const double MaxWaitSeconds = 60;
}

/// <summary>POST /api/jobs/{id}/heartbeat: renews the claim's lease and reports progress (0–100), speed and time left.</summary>
public sealed record Heartbeat(string ClaimToken, double? Progress = null, double? Speed = null, long? EtaSeconds = null)
{
    // The host refuses a heartbeat whose numbers lie outside these; the worker clamps to them.
    public const double MaxProgress = 100;
    public const double MaxSpeed = 10_000;
    public const double MaxEtaSeconds = 10_000_000;
}

/// <summary>The body of finish, release and a worker's cancel acknowledgement: the claim it holds.</summary>
public sealed record ClaimProof(string ClaimToken);
