namespace VideoEncode.Api.Upkeep;

/// <summary>The upkeep's tasks, in the order each round runs them, and the loop that runs the rounds.</summary>
public static class UpkeepSetup
{
    public static IServiceCollection AddUpkeep(this IServiceCollection services)
    {
        services.AddUpkeepTask<LeaseExpiry>();       // leader: lapsed leases back to the queue, after the grace
        services.AddUpkeepTask<BackoffWakeups>();    // every host: wake its own waiting claims as backoffs end
        services.AddUpkeepTask<TimedPauseEnd>();     // every host: a timed pause whose end came is cleared, recorded, its claims woken
        services.AddUpkeepTask<RecordForgetting>();  // leader, each minute: old idempotency keys, changes, webhook deliveries
        services.AddUpkeepTask<JobRetention>();      // leader, each minute or while a backlog lasts: ended jobs past RetentionDays
        services.AddUpkeepTask<UploadSweeper>();     // leader, each minute or while a backlog lasts: expired and unused uploads
        services.AddSingleton<UpkeepLoop>();
        services.AddHostedService(provider => provider.GetRequiredService<UpkeepLoop>());
        return services;
    }

    private static void AddUpkeepTask<TTask>(this IServiceCollection services) where TTask : class, IUpkeepTask
    {
        services.AddSingleton<TTask>();
        services.AddSingleton<IUpkeepTask>(provider => provider.GetRequiredService<TTask>());
    }
}
