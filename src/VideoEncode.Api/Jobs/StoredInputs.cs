namespace VideoEncode.Api.Jobs;

/// <summary>An upload as an enqueue sees it.</summary>
internal sealed record StoredInput(string Id, long Length, long Received, string FileName, string? Sha256, long? CompletedAt);

/// <summary>
/// Jobs whose input is an upload in the host's media store. At enqueue, inside the store's
/// transaction, each upload_id must name a complete upload; the job then takes the upload's file
/// name (so output naming and every list treat it like any other job), its size and its SHA-256.
/// </summary>
internal static class StoredInputs
{
    /// <summary>
    /// The uploads whose ids match <paramref name="idsCondition"/> (each store spells "in this list of @ids" its own
    /// way), complete or not, so an unusable one can be told apart. A complete one is held until @keepuntil
    /// (now plus UploadExpiryHours): being an UPDATE inside the enqueue's transaction, it also makes a sweep
    /// deleting that upload at this moment wait and then see the new expiry,
    /// so an upload is never swept from under the job being made of it.
    /// </summary>
    public static string Lookup(string idsCondition) => $"""
        UPDATE uploads SET expires_at = CASE WHEN completed_at IS NOT NULL AND expires_at < @keepuntil THEN @keepuntil ELSE expires_at END
        WHERE {idsCondition}
        RETURNING id, length, received, file_name AS filename, sha256, completed_at AS completedat
        """;

    /// <summary>The upload ids the request names, each once; empty when every job names a shared-folder file.</summary>
    public static string[] Named(IReadOnlyList<NewJob> jobs) =>
        jobs.Where(job => job.UploadId is not null).Select(job => job.UploadId!).Distinct().ToArray();

    /// <summary>
    /// The jobs with their uploads' file names, and the uploads by id; or the first job whose upload is
    /// missing or unfinished, with what is wrong.
    /// </summary>
    public static (IReadOnlyList<NewJob> Jobs, IReadOnlyDictionary<string, StoredInput> Uploads, (int Index, string Problem)? Unusable) Attach(
        IReadOnlyList<NewJob> jobs, IEnumerable<StoredInput> found)
    {
        var uploads = found.ToDictionary(upload => upload.Id, StringComparer.Ordinal);
        var attached = new NewJob[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.UploadId is not { } id)
            {
                attached[i] = job;
                continue;
            }
            if (!uploads.TryGetValue(id, out var upload))
                return (jobs, uploads, (i, $"upload_id '{id}' names no upload (never made, expired and swept, or deleted)"));
            if (upload.CompletedAt is null)
                return (jobs, uploads, (i, $"upload_id '{id}' is not complete: {upload.Received} of {upload.Length} bytes have arrived; " +
                                          "enqueue it once its upload has finished"));
            attached[i] = job with { FileName = upload.FileName };
        }
        return (attached, uploads, null);
    }
}
