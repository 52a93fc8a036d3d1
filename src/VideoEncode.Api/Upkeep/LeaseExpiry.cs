using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Jobs;

namespace VideoEncode.Api.Upkeep;

/// <summary>
/// On the leading host, at every round: returns jobs whose lease lapsed — their worker died or lost
/// touch — to the queue (or fails or cancels them; see <see cref="IJobStore.ExpireLeasesAsync"/>).
///
/// Leases get a grace period after the host starts, and again after the database could not be
/// reached: for one lease length no lease is swept, so a worker that kept encoding while the host
/// or its database was down — its heartbeats failing — has the time to renew its lease before
/// anyone calls it dead.
/// </summary>
public sealed class LeaseExpiry : IUpkeepTask
{
    private readonly IJobStore store;
    private readonly TimeSpan grace;
    private DateTimeOffset graceEnds;

    public LeaseExpiry(IJobStore store, TimeProvider clock, IOptions<QueueOptions> options, IHostApplicationLifetime lifetime)
    {
        this.store = store;
        grace = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        graceEnds = clock.GetUtcNow() + grace;
        // Counted from when the host answers requests: a slow start-up must not eat into the grace.
        lifetime.ApplicationStarted.Register(() => graceEnds = clock.GetUtcNow() + grace);
    }

    public async Task RunAsync(UpkeepRound round)
    {
        // The database answers again; heartbeats failed meanwhile, so leases get their grace once more.
        if (round.AfterFailure) graceEnds = round.Now + grace;
        if (round.Leads && round.Now >= graceEnds) await store.ExpireLeasesAsync();
    }
}
