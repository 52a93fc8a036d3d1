namespace VideoEncode.Api.Uploads;

/// <summary>
/// The tus termination extension (DELETE): removes an upload, row first and then its files (a file
/// without a row is a leftover the sweep removes; never the other way round). An upload a job refers
/// to, as its input or its result, stays. Recorded in the audit trail.
/// </summary>
public sealed class UploadTermination(UploadStore store, MediaStore media, UploadSessions sessions, TimeProvider clock)
{
    /// <summary>What happened, and for <see cref="TerminationOutcome.InUse"/> which job holds the upload.</summary>
    public async Task<(TerminationOutcome Outcome, long? JobId)> TerminateAsync(string id, string actor)
    {
        var session = sessions.TryBegin(id);
        if (session is null) return (TerminationOutcome.Busy, null);
        var outcome = TerminationOutcome.NotFound;
        try
        {
            (outcome, var job) = await store.TerminateAsync(id, actor, clock.GetUtcNow().ToUnixTimeSeconds());
            if (outcome == TerminationOutcome.Deleted) media.Delete(id);
            return (outcome, job);
        }
        finally
        {
            sessions.End(id, session, forget: outcome != TerminationOutcome.InUse);
        }
    }
}
