using VideoEncode.Api.Changes;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>An Idempotency-Key header and a digest of the request body it came with.</summary>
public sealed record IdempotencyKey(string Key, string RequestHash);

/// <summary>What a store remembers of a request made with an Idempotency-Key: its body's digest and the jobs it created.</summary>
public sealed record RememberedRequest(string RequestHash, string JobIds)
{
    public long[] Ids => JobIds.Split(',').Select(long.Parse).ToArray();
}

public enum EnqueueOutcome
{
    Created,
    /// <summary>A repeat of a request already done under the same Idempotency-Key: its jobs, nothing new stored.</summary>
    Replayed,
    /// <summary>The Idempotency-Key was used with a different body within its window.</summary>
    KeyReused,
    /// <summary>A requested output_name is held by a live job (or named twice in the request).</summary>
    OutputTaken,
    /// <summary>An upload_id names no complete upload (<see cref="Enqueued.Name"/> says what is wrong with it).</summary>
    UploadMissing,
    /// <summary>A job's source was enqueued before (<see cref="Enqueued.SeenAs"/> is the job it became).</summary>
    SourceSeen,
    /// <summary>The jobs would exceed a quota of the key (<see cref="Enqueued.Quota"/> says which); nothing stored.</summary>
    OverQuota,
}

/// <summary>What an enqueue did: the jobs (created or replayed), or which item's output_name clashed, upload_id is unusable or source was enqueued before.</summary>
public sealed record Enqueued(EnqueueOutcome Outcome, IReadOnlyList<Job> Jobs, IReadOnlyList<JobChange> Changes, int? Index = null, string? Name = null,
    long? SeenAs = null) : IChangeSet
{
    public static Enqueued Created(IReadOnlyList<Job> jobs, IReadOnlyList<JobChange>? tasks = null) =>
        new(EnqueueOutcome.Created, jobs, [.. jobs.Select(job => JobChange.Moved(null, job, ChangeCause.Enqueue)), .. tasks ?? []]);
    public static Enqueued Replayed(IReadOnlyList<Job> jobs) => new(EnqueueOutcome.Replayed, jobs, []);
    public static readonly Enqueued KeyReused = new(EnqueueOutcome.KeyReused, [], []);
    public static Enqueued OutputTaken(int index, string name) => new(EnqueueOutcome.OutputTaken, [], [], index, name);
    public static Enqueued UploadMissing(int index, string problem) => new(EnqueueOutcome.UploadMissing, [], [], index, problem);
    /// <summary>With <see cref="EnqueueOutcome.OverQuota"/>: the quota and when to ask again.</summary>
    public Quotas.QuotaRefusal? Quota { get; init; }

    public static Enqueued OverQuota(Quotas.QuotaRefusal refusal) => new(EnqueueOutcome.OverQuota, [], []) { Quota = refusal };
    public static Enqueued SourceSeen(int index, string path, long jobId) => new(EnqueueOutcome.SourceSeen, [], [], index, path, jobId);
}
