namespace VideoEncode.Api.Http;

/// <summary>GET /health's answer, {"status": "ok"}; open to anyone, for load balancers and run.sh.</summary>
public sealed record HealthStatus(string Status);
