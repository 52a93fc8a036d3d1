using System.Globalization;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The list's query string, checked: status filter (null = all), limit, offset, and before_id —
/// keyset paging: only jobs older than that id, which costs the same at any depth where a large
/// offset has to walk past every skipped row.
/// </summary>
public sealed record JobListQuery(string? Status, int Limit, int Offset, long? BeforeId = null)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static (JobListQuery? Query, ApiError? Error) Parse(IQueryCollection query)
    {
        string? status = query["status"];
        if (string.IsNullOrEmpty(status) || status == "all")
            status = null;
        else if (!JobStatus.All.Contains(status))
            return (null, new ApiError($"status must be one of: {string.Join(", ", JobStatus.All)}, all."));

        if (!TryReadInt(query["limit"], DefaultLimit, out var limit) || limit is < 1 or > MaxLimit)
            return (null, new ApiError($"limit must be a whole number from 1 to {MaxLimit}."));
        if (!TryReadInt(query["offset"], 0, out var offset) || offset < 0)
            return (null, new ApiError("offset must be a whole number, 0 or more."));
        long? beforeId = null;
        if (!string.IsNullOrEmpty(query["before_id"]))
        {
            if (!long.TryParse(query["before_id"], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return (null, new ApiError("before_id must be a job id (a whole number)."));
            beforeId = id;
        }
        return (new JobListQuery(status, limit, offset, beforeId), null);
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
