using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The files watched folders enqueue (a job's "source", schema step 14): each (path, size, mtime)
/// becomes one job. Each store looks the request's sources up, and refuses the request when one was
/// enqueued before, in the same transaction that then stores the jobs and remembers their sources,
/// so two watchers racing for one file, or a watcher restarted mid-request, never make two jobs.
/// </summary>
internal static class WatchedFiles
{
    /// <summary>Both stores remember a created job's source with this one statement.</summary>
    public const string Remember = """
        INSERT INTO watched_files (path, size, mtime, job_id, created_at) VALUES (@path, @size, @mtime, @jobid, @now)
        """;

    /// <summary>The job one source became; both stores ask this by primary key.</summary>
    public const string JobOf = "SELECT job_id FROM watched_files WHERE path = @path AND size = @size AND mtime = @mtime";

    /// <summary>{"path": relative path, "size": bytes, "mtime": unix ms}, or null and why not.</summary>
    public static WatchedFile? Parse(JsonElement source, out string? problem)
    {
        problem = "must be an object {\"path\": \"relative/path.mkv\", \"size\": bytes, \"mtime\": unix milliseconds}";
        if (source.ValueKind != JsonValueKind.Object) return null;
        if (!source.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String) return null;
        if (!source.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var bytes) || bytes < 0)
            return null;
        if (!source.TryGetProperty("mtime", out var mtime) || mtime.ValueKind != JsonValueKind.Number || !mtime.TryGetInt64(out var millis))
            return null;
        if (FileNames.Problem(path.GetString()!) is { } pathProblem)
        {
            problem = "path " + pathProblem;
            return null;
        }
        problem = null;
        return new WatchedFile(path.GetString()!, bytes, millis);
    }

    /// <summary>The first job whose source an earlier job of the same request names too, with that earlier job's index.</summary>
    public static (int Index, int First)? FirstRepeat(IReadOnlyList<NewJob> jobs)
    {
        var seen = new Dictionary<WatchedFile, int>();
        for (var i = 0; i < jobs.Count; i++)
            if (jobs[i].Source is { } source && !seen.TryAdd(source, i))
                return (i, seen[source]);
        return null;
    }

    /// <summary>The jobs that carry a source, by index in the request; empty for every request but a watcher's.</summary>
    public static List<(int Index, WatchedFile Source)> Of(IReadOnlyList<NewJob> jobs)
    {
        var sources = new List<(int, WatchedFile)>();
        for (var i = 0; i < jobs.Count; i++)
            if (jobs[i].Source is { } source) sources.Add((i, source));
        return sources;
    }
}
