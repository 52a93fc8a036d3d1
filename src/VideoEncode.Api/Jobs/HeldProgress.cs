using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// A running job's figures held in memory for the next batch: the job as it reads with them, its claim
/// token, and when its worker was last seen (unix seconds), which the batch writes as the worker's last sighting.
/// </summary>
public sealed record HeldProgress(Job Job, string Token, long SeenAt);
