using VideoEncode.Api.Schedules;

namespace VideoEncode.Api.Queue;

/// <summary>
/// GET /api/queue: whether claims are held back, since when (unix seconds) and by which key; for a timed pause, when it ends by
/// itself (<see cref="ResumeAt"/>); and the queue's schedule (null: none, always open) with when it next opens or closes.
/// </summary>
public sealed record QueueState(bool Paused, long? PausedAt, string? PausedBy, long? ResumeAt = null, ScheduleView? Schedule = null);
