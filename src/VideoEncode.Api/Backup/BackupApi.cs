using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using VideoEncode.Api.Audit;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Database;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Backup;

/// <summary>
/// GET /api/backup, for admins: the SQLite queue as a file download, a consistent snapshot taken
/// while the host serves (<see cref="SqliteSnapshot"/>), the same as `VideoEncode.Api backup`. The
/// snapshot is written to a hidden file beside the database (the disk that has room for it, unlike
/// a small /tmp), streamed, and deleted once sent. On PostgreSQL the answer is 501 with the pg_dump
/// command to use instead.
/// </summary>
public static class BackupApi
{
    public const string ContentType = "application/vnd.sqlite3";

    public static RouteHandlerBuilder MapBackup(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/backup", Take)
            .WithTags("Backup")
            .RequireAccess(Access.Admin)
            .Produces(StatusCodes.Status200OK, contentType: ContentType)
            .WithSummary("Download a consistent copy of the SQLite queue, taken while the host runs (PostgreSQL: 501 with the pg_dump command)");

    private static async Task<Results<FileStreamHttpResult, JsonHttpResult<ApiError>>> Take(
        DatabaseLocation location, IStoreSql store, Caller caller, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var name = $"videoencode-{now:yyyyMMdd-HHmmss}.db";
        if (location.IsShared)
            return TypedResults.Json(new ApiError(PostgresBackupAdvice.For(location.PostgresConnectionString!, name)),
                statusCode: StatusCodes.Status501NotImplemented);

        var folder = Path.GetDirectoryName(Path.GetFullPath(location.SqlitePath!))!;
        var snapshotPath = Path.Combine(folder, $".backup-{Guid.NewGuid():N}.db");
        Snapshot snapshot;
        try
        {
            snapshot = await Task.Run(() => SqliteSnapshot.Write(location.SqlitePath!, snapshotPath, replace: false));
            // A backup changes nothing, so its entry has a write of its own.
            await store.WriteAsync(async connection =>
            {
                await AuditTrail.RecordAsync(connection, now.ToUnixTimeSeconds(), caller.Name, "backup", name, $"{snapshot.Bytes} bytes, {snapshot.Jobs} jobs");
                return true;
            });
        }
        catch (Exception e)
        {
            File.Delete(snapshotPath);
            if (e is not (SqliteException or IOException or UnauthorizedAccessException)) throw;
            return TypedResults.Json(new ApiError($"Could not take a backup: {e.Message}"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        // Deleted when the answer has been sent, or the client left.
        var file = new FileStream(snapshotPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16,
            FileOptions.Asynchronous | FileOptions.SequentialScan | FileOptions.DeleteOnClose);
        return TypedResults.File(file, ContentType, name);
    }
}
