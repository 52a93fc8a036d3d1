using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoEncode.Api.Quotas;

/// <summary>
/// What one key may enqueue (docs/quotas.md): top-level jobs per quota day, seconds of input its jobs
/// encoded per quota day (each job's input duration, counted when it finishes), and pending jobs at
/// once. A limit left out (null) is no limit; a key without a quota, or with none of the three, has none.
/// </summary>
public sealed record Quota(long? JobsPerDay = null, long? EncodeSecondsPerDay = null, long? MaxPending = null)
{
    public const string JobsPerDayName = "jobs_per_day", EncodeSecondsPerDayName = "encode_seconds_per_day", MaxPendingName = "max_pending";

    /// <summary>The largest limit accepted: far beyond any farm, small enough for any column.</summary>
    private const long MaxLimit = 1_000_000_000;

    [JsonIgnore]
    public bool IsEmpty => JobsPerDay is null && EncodeSecondsPerDay is null && MaxPending is null;

    /// <summary>The request's "quota": an object with any of the three limits, each a whole number from 0 (or null, no limit); anything else is refused naming the field.</summary>
    public static (Quota? Quota, string? Error) Parse(JsonElement quota)
    {
        if (quota.ValueKind == JsonValueKind.Null) return (new Quota(), null);
        if (quota.ValueKind != JsonValueKind.Object)
            return (null, $"quota must be an object with any of {JobsPerDayName}, {EncodeSecondsPerDayName}, {MaxPendingName}.");
        var limits = new Dictionary<string, long?> { [JobsPerDayName] = null, [EncodeSecondsPerDayName] = null, [MaxPendingName] = null };
        foreach (var member in quota.EnumerateObject())
        {
            if (!limits.ContainsKey(member.Name))
                return (null, $"quota has no field '{member.Name}'; it takes {JobsPerDayName}, {EncodeSecondsPerDayName} and {MaxPendingName}.");
            if (member.Value.ValueKind == JsonValueKind.Null) continue;
            if (member.Value.ValueKind != JsonValueKind.Number || !member.Value.TryGetInt64(out var limit) || limit is < 0 or > MaxLimit)
                return (null, $"quota.{member.Name} must be a whole number from 0 to {MaxLimit}, or null for no limit.");
            limits[member.Name] = limit;
        }
        return (new Quota(limits[JobsPerDayName], limits[EncodeSecondsPerDayName], limits[MaxPendingName]), null);
    }
}

/// <summary>What a key used in the current quota day (from <see cref="DayStartedAt"/> to <see cref="ResetsAt"/>, unix seconds) and its pending jobs now.</summary>
public sealed record QuotaUsage(long DayStartedAt, long ResetsAt, long Jobs, double EncodeSeconds, long Pending);

/// <summary>A key's quota (null: none) and usage, as GET /api/keys/current and the keys list show them.</summary>
public sealed record KeyQuota(string Name, Quota? Quota, QuotaUsage Usage);

/// <summary>Why an enqueue was refused: the quota it would exceed, its limit, and when asking again may succeed.</summary>
public sealed record QuotaRefusal(string Quota, long Limit, long RetryAfterSeconds, string Message);

/// <summary>
/// The rules of a quota, as pure functions of the counts: the quota day (it starts at QuotaResetHour UTC)
/// and whether an enqueue of some jobs fits. The counts come from <see cref="QuotaBook"/>.
/// </summary>
public static class QuotaRules
{
    /// <summary>How long a key over max_pending is told to wait: its pending jobs go as workers claim them, at no time one can name.</summary>
    public const long PendingRetrySeconds = 60;

    private const long Day = 24 * 60 * 60;

    /// <summary>The quota day <paramref name="now"/> falls in: its start and the next day's, unix seconds.</summary>
    public static (long Start, long End) DayOf(long now, int resetHour)
    {
        var offset = resetHour * 3600L;
        var start = (long)Math.Floor((now - offset) / (double)Day) * Day + offset;
        return (start, start + Day);
    }

    /// <summary>
    /// Whether <paramref name="adding"/> jobs fit <paramref name="quota"/> beside today's counts: all of them or none (a bulk
    /// enqueue is all or nothing). Encode seconds are known only once jobs finish, so that limit refuses once reached.
    /// </summary>
    public static QuotaRefusal? Judge(string key, Quota quota, long jobsToday, double secondsToday, long pending, int adding, long now, int resetHour)
    {
        var (_, end) = DayOf(now, resetHour);
        var untilReset = end - now;
        var resets = $"The quota day starts again at {resetHour:00}:00 UTC.";
        if (quota.JobsPerDay is { } jobs && jobsToday + adding > jobs)
            return new QuotaRefusal(Quota.JobsPerDayName, jobs, untilReset,
                $"Key '{key}' may enqueue {jobs} jobs per day; {jobsToday} enqueued today and this request has {adding}; nothing was stored. {resets}");
        if (quota.EncodeSecondsPerDay is { } seconds && secondsToday >= seconds)
            return new QuotaRefusal(Quota.EncodeSecondsPerDayName, seconds, untilReset,
                $"Key '{key}' may encode {seconds} seconds of input per day and has encoded {Math.Floor(secondsToday)} today; nothing was stored. {resets}");
        if (quota.MaxPending is { } most && pending + adding > most)
            return new QuotaRefusal(Quota.MaxPendingName, most, PendingRetrySeconds,
                $"Key '{key}' may have {most} pending jobs; it has {pending} and this request has {adding}; nothing was stored. Try again once workers have claimed some.");
        return null;
    }
}

/// <summary>The body of an enqueue's 429 over a quota: {"error", "quota", "retry_after_seconds"} (Retry-After says the same).</summary>
public sealed record QuotaError(string Error, string Quota, long RetryAfterSeconds)
{
    public static QuotaError Of(QuotaRefusal refusal) => new(refusal.Message, refusal.Quota, refusal.RetryAfterSeconds);
}
