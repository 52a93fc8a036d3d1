using System.Data.Common;
using Dapper;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Database;

namespace VideoEncode.Api.Uploads;

/// <summary>What a termination (DELETE) found.</summary>
public enum TerminationOutcome
{
    Deleted,
    NotFound,
    /// <summary>A job refers to the upload, as its input or its result.</summary>
    InUse,
    /// <summary>A PATCH is writing the upload on this host right now.</summary>
    Busy,
}

/// <summary>
/// The uploads table, on either store (the same SQL; <see cref="IStoreSql"/>). Every step that moves an
/// upload forward is guarded by the state it starts from (<c>WHERE received = @from</c>, <c>completed_at IS NULL</c>),
/// so two hosts writing one upload (a client that switched hosts mid-way) cannot both move it.
/// </summary>
public sealed class UploadStore(IStoreSql store)
{
    private const string Columns = "id, length, received, file_name, content_type, metadata, sha256, created_at, expires_at, completed_at, created_by";

    /// <summary>No job refers to the upload, as its input or as its result (each side has its index).</summary>
    private const string Unreferenced =
        "NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.input_upload = uploads.id) AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.output_upload = uploads.id)";

    /// <summary>
    /// What the sweep deletes, said twice in each of its statements: to choose the batch, and again of each row it
    /// deletes. On PostgreSQL a delete that waited on a row (an enqueue taking the upload up, a PATCH moving its
    /// expiry on) sees the row as it now is only through its own WHERE; "id IN (the batch)" alone would still match.
    /// </summary>
    private const string ExpiredUnfinished = $"completed_at IS NULL AND expires_at <= @now AND {Unreferenced}";

    private const string UnusedComplete = $"completed_at IS NOT NULL AND completed_at <= @completedBefore AND expires_at <= @now AND {Unreferenced}";

    private sealed record Row
    {
        public string Id { get; init; } = "";
        public long Length { get; init; }
        public long Received { get; init; }
        public string FileName { get; init; } = "";
        public string? ContentType { get; init; }
        public string? Metadata { get; init; }
        public string? Sha256 { get; init; }
        public long CreatedAt { get; init; }
        public long ExpiresAt { get; init; }
        public long? CompletedAt { get; init; }
        public string? CreatedBy { get; init; }

        public Upload ToUpload() =>
            new(Id, Length, Received, FileName, ContentType, Sha256, CreatedAt, ExpiresAt, CompletedAt, CreatedBy) { Metadata = Metadata };
    }

    /// <summary>The upload, complete or not (expired ones too, until swept); null when there is none.</summary>
    public Task<Upload?> GetAsync(string id) =>
        store.ReadAsync(async connection =>
            (await connection.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM uploads WHERE id = @id", new { id }))?.ToUpload());

    /// <summary>
    /// Stores a new, empty upload (before its file exists: a file is never without its row), unless its key's unfinished,
    /// unexpired uploads and this one would reserve more than <paramref name="cap"/> bytes: then nothing is stored and the
    /// answer is what the key holds. Read and insert are one write: exact under SQLite's single writer; on PostgreSQL two
    /// creations by one key in the same instant may both fit by a little.
    /// </summary>
    public Task<long?> CreateAsync(Upload upload, long cap) =>
        store.WriteAsync(async connection =>
        {
            var held = await connection.ExecuteScalarAsync<long>(
                "SELECT COALESCE(SUM(length - received), 0) FROM uploads WHERE created_by = @CreatedBy AND completed_at IS NULL AND expires_at > @CreatedAt",
                upload);
            if (upload.Length > cap - held) return held;
            await connection.ExecuteAsync($"""
                INSERT INTO uploads ({Columns})
                VALUES (@Id, @Length, 0, @FileName, @ContentType, @Metadata, NULL, @CreatedAt, @ExpiresAt, NULL, @CreatedBy)
                """, upload);
            return (long?)null;
        });

    /// <summary>A page of the uploads, newest first (for admins).</summary>
    public Task<IReadOnlyList<UploadListing>> ListAsync(UploadListQuery query) =>
        store.ReadAsync<IReadOnlyList<UploadListing>>(async connection => (await connection.QueryAsync<Row>($"""
            SELECT {Columns} FROM uploads
            {query.Filter switch
            {
                UploadListFilter.Unfinished => "WHERE completed_at IS NULL",
                UploadListFilter.Complete => "WHERE completed_at IS NOT NULL",
                _ => "",
            }}
            ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset
            """, new { limit = query.Limit, offset = query.Offset }))
            .Select(row => new UploadListing(row.Id, row.CreatedBy, row.FileName, row.Length, row.Received, row.CreatedAt, row.ExpiresAt, row.CompletedAt))
            .ToList());

    /// <summary>Bytes that unfinished, unexpired uploads may still send: space the disk must keep for them.</summary>
    public Task<long> OutstandingBytesAsync(long now) =>
        store.ReadAsync(connection => connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(length - received), 0) FROM uploads WHERE completed_at IS NULL AND expires_at > @now", new { now }));

    /// <summary>Records bytes stored durably (from <paramref name="from"/> to <paramref name="to"/>) and moves the expiry on; false when the upload was not at <paramref name="from"/>.</summary>
    public Task<bool> AdvanceAsync(string id, long from, long to, long expiresAt) =>
        store.WriteAsync(async connection => await connection.ExecuteAsync(
            "UPDATE uploads SET received = @to, expires_at = @expiresAt WHERE id = @id AND received = @from AND completed_at IS NULL",
            new { id, from, to, expiresAt }) == 1);

    /// <summary>
    /// Moves the expiry of an unfinished upload a PATCH is writing on to at least <paramref name="until"/>; false when it
    /// is gone, complete, or had already expired by <paramref name="now"/> (a PATCH that stalled that long must stop).
    /// </summary>
    public Task<bool> KeepAsync(string id, long now, long until) =>
        store.WriteAsync(async connection => await connection.ExecuteAsync(
            "UPDATE uploads SET expires_at = CASE WHEN expires_at < @until THEN @until ELSE expires_at END " +
            "WHERE id = @id AND completed_at IS NULL AND expires_at > @now",
            new { id, now, until }) == 1);

    /// <summary>
    /// Marks the upload complete once its file is whole and in place, to be kept unused until <paramref name="keepUntil"/>;
    /// false when it already was (or is gone).
    /// </summary>
    public Task<bool> CompleteAsync(string id, string sha256, long now, long keepUntil) =>
        store.WriteAsync(async connection => await connection.ExecuteAsync(
            "UPDATE uploads SET received = length, sha256 = @sha256, completed_at = @now, expires_at = @keepUntil WHERE id = @id AND completed_at IS NULL",
            new { id, sha256, now, keepUntil }) == 1);

    /// <summary>
    /// Deletes the upload's row unless a job refers to it (then answers the job's id), and records who did it.
    /// The caller removes the files once the row is gone.
    /// </summary>
    public Task<(TerminationOutcome Outcome, long? JobId)> TerminateAsync(string id, string actor, long now) =>
        store.WriteAsync(async connection =>
        {
            // The row first (an update that changes nothing takes its lock on PostgreSQL, where SQLite's single writer
            // needs none): an enqueue making a job of this upload holds the row until it commits, so the look for jobs
            // that follows, a statement of its own, sees that job. Looking first would miss it, and the delete, once
            // the enqueue let the row go, would take the upload from under the new job.
            var fileName = await connection.QuerySingleOrDefaultAsync<string?>(
                "UPDATE uploads SET expires_at = expires_at WHERE id = @id RETURNING file_name", new { id });
            if (fileName is null) return (TerminationOutcome.NotFound, (long?)null);
            var job = await connection.QueryFirstOrDefaultAsync<long?>(
                "SELECT id FROM jobs WHERE input_upload = @id OR output_upload = @id ORDER BY id LIMIT 1", new { id });
            if (job is not null) return (TerminationOutcome.InUse, job);
            await connection.ExecuteAsync("DELETE FROM uploads WHERE id = @id", new { id });
            await AuditTrail.RecordAsync(connection, now, actor, "upload.delete", id, fileName);
            return (TerminationOutcome.Deleted, (long?)null);
        });

    /// <summary>Deletes at most <paramref name="limit"/> unfinished uploads whose expiry has passed (none a job refers to); answers their ids.</summary>
    public Task<IReadOnlyList<string>> DeleteExpiredAsync(long now, int limit) =>
        store.WriteAsync<IReadOnlyList<string>>(async connection => (await connection.QueryAsync<string>($"""
            DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE {ExpiredUnfinished} ORDER BY expires_at LIMIT @limit)
                AND {ExpiredUnfinished}
            RETURNING id
            """, new { now, limit })).AsList());

    /// <summary>
    /// Deletes at most <paramref name="limit"/> uploads completed before <paramref name="completedBefore"/>, whose keep
    /// (<see cref="Jobs.StoredInputs"/> holds one for the job made of it) has run out by <paramref name="now"/>, that no job refers to; answers their ids.
    /// </summary>
    public Task<IReadOnlyList<string>> DeleteUnreferencedAsync(long now, long completedBefore, int limit) =>
        store.WriteAsync<IReadOnlyList<string>>(async connection => (await connection.QueryAsync<string>($"""
            DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE {UnusedComplete} ORDER BY completed_at LIMIT @limit)
                AND {UnusedComplete}
            RETURNING id
            """, new { now, completedBefore, limit })).AsList());

    /// <summary>Which of <paramref name="ids"/> (a batch: one parameter each) have a row.</summary>
    public Task<IReadOnlySet<string>> KnownAsync(IReadOnlyList<string> ids)
    {
        if (ids.Count == 0) return Task.FromResult<IReadOnlySet<string>>(new HashSet<string>());
        // A parameter per id, spelled out: Dapper passes a list to Npgsql as one array, which "IN" does not take.
        var parameters = new DynamicParameters();
        for (var i = 0; i < ids.Count; i++) parameters.Add($"id{i}", ids[i]);
        var list = string.Join(", ", ids.Select((_, i) => $"@id{i}"));
        return store.ReadAsync<IReadOnlySet<string>>(async connection =>
            (await connection.QueryAsync<string>($"SELECT id FROM uploads WHERE id IN ({list})", parameters)).ToHashSet());
    }
}
