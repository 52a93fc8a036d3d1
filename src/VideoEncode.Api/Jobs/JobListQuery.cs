using System.Globalization;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>The orders a list can come in; the wire names are <see cref="JobListQuery.SortNames"/>.</summary>
public enum JobSort
{
    /// <summary>Newest first (by id): the default, and the only order before_id pages.</summary>
    Newest,
    Oldest,
    /// <summary>Highest priority first, newest first within a priority.</summary>
    Priority,
    /// <summary>By status, pending, in_progress, finished, failed, cancelled, newest first within each: the (status, id) index read backwards.</summary>
    Status,
}

/// <summary>
/// The list's query string, checked: which jobs (<see cref="JobFilter"/>: status and search), limit,
/// offset, sort, and before_id — keyset paging of the newest-first order: only jobs older than that
/// id, which costs the same at any depth where a large offset has to walk past every skipped row.
/// The other orders page by offset.
/// </summary>
public sealed record JobListQuery(JobFilter Filter, int Limit, int Offset, long? BeforeId = null, JobSort Sort = JobSort.Newest)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static readonly IReadOnlyDictionary<string, JobSort> SortNames = new Dictionary<string, JobSort>
    {
        ["newest"] = JobSort.Newest, ["oldest"] = JobSort.Oldest, ["priority"] = JobSort.Priority, ["status"] = JobSort.Status,
    };

    public static (JobListQuery? Query, ApiError? Error) Parse(IQueryCollection query)
    {
        var (filter, filterError) = JobFilter.Parse(query["status"], query["q"]);
        if (filterError is not null) return (null, filterError);

        if (!TryReadInt(query["limit"], DefaultLimit, out var limit) || limit is < 1 or > MaxLimit)
            return (null, new ApiError($"limit must be a whole number from 1 to {MaxLimit}."));
        if (!TryReadInt(query["offset"], 0, out var offset) || offset < 0)
            return (null, new ApiError("offset must be a whole number, 0 or more."));
        var sort = JobSort.Newest;
        if (!string.IsNullOrEmpty(query["sort"]) && !SortNames.TryGetValue(query["sort"]!, out sort))
            return (null, new ApiError($"sort must be one of: {string.Join(", ", SortNames.Keys)}."));
        long? beforeId = null;
        if (!string.IsNullOrEmpty(query["before_id"]))
        {
            if (!long.TryParse(query["before_id"], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return (null, new ApiError("before_id must be a job id (a whole number)."));
            if (sort != JobSort.Newest)
                return (null, new ApiError("before_id pages the newest-first order only; page other orders with offset."));
            beforeId = id;
        }
        return (new JobListQuery(filter!, limit, offset, beforeId, sort), null);
    }

    // An empty value (limit=) counts as absent, as a form with an empty field sends it.
    private static bool TryReadInt(string? text, int absent, out int value)
    {
        if (string.IsNullOrEmpty(text))
        {
            value = absent;
            return true;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
