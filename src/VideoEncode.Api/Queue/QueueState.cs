namespace VideoEncode.Api.Queue;

/// <summary>GET /api/queue: whether claims are held back, since when (unix seconds) and by which key.</summary>
public sealed record QueueState(bool Paused, long? PausedAt, string? PausedBy);
