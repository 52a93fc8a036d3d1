using VideoEncode.Api.Jobs;
using VideoEncode.Api.Webhooks;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// Forgets old records on the leading host once a minute: idempotency keys and the change journal
/// (<see cref="IJobStore.ForgetOldRecordsAsync"/>) and old webhook deliveries.
/// </summary>
public sealed class RecordForgetting(IJobStore store, WebhookStore webhooks, TimeProvider clock, ILogger<RecordForgetting> logger)
    : LeaderChore(clock, logger)
{
    protected override string Doing => "forgetting old idempotency keys, changes and webhook deliveries";

    public override async Task<bool> RunAsync()
    {
        await store.ForgetOldRecordsAsync();
        await webhooks.ForgetOldAsync(Clock.GetUtcNow().ToUnixTimeSeconds());
        // Each round forgets all it may; what comes of age meanwhile waits for the next minute.
        return false;
    }
}
