using System.Globalization;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// One upload as GET /api/uploads lists it for admins: who holds it (<see cref="Key"/>: the name of the key that made
/// it, never a secret), how large it is, how much has arrived, and until when it is kept. Times are unix seconds;
/// <see cref="CompletedAt"/> is null while unfinished, when <see cref="Size"/> minus <see cref="Received"/> is what it
/// still reserves until <see cref="ExpiresAt"/>.
/// </summary>
public sealed record UploadListing(string Id, string? Key, string FileName, long Size, long Received, long CreatedAt, long ExpiresAt, long? CompletedAt);

/// <summary>Which uploads the list shows.</summary>
public enum UploadListFilter
{
    All,
    /// <summary>Not complete yet: the ones holding reservations (expired ones too, until swept).</summary>
    Unfinished,
    Complete,
}

/// <summary>GET /api/uploads's query string, checked: status (all, unfinished, complete), limit and offset; newest first.</summary>
public sealed record UploadListQuery(UploadListFilter Filter, int Limit, int Offset)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly IReadOnlyDictionary<string, UploadListFilter> StatusNames = new Dictionary<string, UploadListFilter>
    {
        ["all"] = UploadListFilter.All, ["unfinished"] = UploadListFilter.Unfinished, ["complete"] = UploadListFilter.Complete,
    };

    public static (UploadListQuery? Query, ApiError? Error) Parse(IQueryCollection query)
    {
        var filter = UploadListFilter.All;
        if (!string.IsNullOrEmpty(query["status"]) && !StatusNames.TryGetValue(query["status"]!, out filter))
            return (null, new ApiError($"status must be one of: {string.Join(", ", StatusNames.Keys)}."));
        if (!TryReadInt(query["limit"], DefaultLimit, out var limit) || limit is < 1 or > MaxLimit)
            return (null, new ApiError($"limit must be a whole number from 1 to {MaxLimit}."));
        if (!TryReadInt(query["offset"], 0, out var offset) || offset < 0)
            return (null, new ApiError("offset must be a whole number, 0 or more."));
        return (new UploadListQuery(filter, limit, offset), null);
    }

    // An empty value (limit=) counts as absent, as a form with an empty field sends it.
    private static bool TryReadInt(string? text, int absent, out int value)
    {
        value = absent;
        return string.IsNullOrEmpty(text) || int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
