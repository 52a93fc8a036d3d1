using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Metrics;
using VideoEncode.Api.Uploads;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// The media store's upkeep, a chore of the leading host (once a minute, <see cref="LeaderChore"/>):
/// removes uploads left unfinished past their expiry (an hour after creation for one that never received a byte,
/// <see cref="UploadCreation.IdleExpiry"/>; a PATCH under way keeps its upload's expiry ahead), completed uploads no job refers to once
/// UploadExpiryHours have passed since they completed and since a job last took them up
/// (<see cref="Jobs.StoredInputs"/>) — never enqueued, or their jobs deleted — by
/// hand or by retention, so the media of old jobs follow them), and files in the media folders that
/// have no row and are older than the expiry (a crash's leftovers). Rows go first, then files, in
/// batches of <see cref="BatchSize"/>; a round answers whether more is left, and the next round follows
/// at the next sweep.
/// </summary>
public sealed class UploadSweeper(UploadStore store, MediaStore media, UploadSessions sessions, TimeProvider clock,
    IOptions<QueueOptions> options, QueueMetrics metrics, ILogger<UploadSweeper> logger) : LeaderChore(clock, logger)
{
    public const int BatchSize = 500;

    protected override string Doing => "sweeping expired and unused uploads from the media store";

    /// <summary>One round; answers true when it stopped with more left to remove.</summary>
    public override async Task<bool> RunAsync()
    {
        var now = Clock.GetUtcNow();
        var expiry = UploadCreation.ExpirySeconds(options.Value);
        var expired = await store.DeleteExpiredAsync(now.ToUnixTimeSeconds(), BatchSize);
        var unused = await store.DeleteUnreferencedAsync(now.ToUnixTimeSeconds(), now.ToUnixTimeSeconds() - expiry, BatchSize);
        foreach (var id in expired.Concat(unused))
        {
            sessions.ForgetIfIdle(id);
            media.Delete(id);
        }
        var (leftovers, moreLeftovers) = await RemoveLeftoversAsync(now.UtcDateTime - TimeSpan.FromSeconds(expiry));

        if (expired.Count + unused.Count + leftovers == 0) return false;
        metrics.UploadsSwept(expired.Count, unused.Count, leftovers);
        logger.LogInformation("Swept {Expired} uploads left unfinished past their expiry, {Unused} completed uploads no job refers to and " +
                              "{Leftovers} files without an upload from the media store.", expired.Count, unused.Count, leftovers);
        return expired.Count == BatchSize || unused.Count == BatchSize || moreLeftovers;
    }

    /// <summary>Deletes up to <see cref="BatchSize"/> files last written before <paramref name="before"/> whose upload has no row.</summary>
    private async Task<(int Removed, bool More)> RemoveLeftoversAsync(DateTime before)
    {
        var removed = 0;
        foreach (var chunk in media.Files().Where(file => file.WrittenUtc < before).Chunk(BatchSize))
        {
            var known = await store.KnownAsync(chunk.Select(file => file.Id).Distinct().ToList());
            foreach (var file in chunk.Where(file => !known.Contains(file.Id)))
            {
                if (removed == BatchSize) return (removed, true);
                File.Delete(file.Path);
                removed++;
            }
        }
        return (removed, false);
    }
}
