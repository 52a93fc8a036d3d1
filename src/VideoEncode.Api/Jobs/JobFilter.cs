using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// Which jobs a list or a bulk action is about: a status (null = any) and a piece of the file name
/// (<see cref="Search"/>, null = any): a substring, letter case ignored.
/// </summary>
public sealed record JobFilter(string? Status, string? Search)
{
    public static readonly JobFilter All = new(null, null);

    /// <summary>No job's file name is longer, so a longer search could never match.</summary>
    public const int MaxSearchLength = FileNames.MaxLength;

    /// <summary>The status and q query values, checked; empty and "all" mean any status, an empty q no search.</summary>
    public static (JobFilter? Filter, ApiError? Error) Parse(string? status, string? search)
    {
        if (string.IsNullOrEmpty(status) || status == "all")
            status = null;
        else if (!JobStatus.All.Contains(status))
            return (null, new ApiError($"status must be one of: {string.Join(", ", JobStatus.All)}, all.") { Field = "status" });
        if (string.IsNullOrEmpty(search))
            search = null;
        else if (search.Length > MaxSearchLength)
            return (null, new ApiError($"q must be at most {MaxSearchLength} characters (no file name is longer).") { Field = "q" });
        else if (search.Any(char.IsControl))
            return (null, new ApiError("q must not contain control characters (no file name has any).") { Field = "q" });
        return (new JobFilter(status, search), null);
    }

    /// <summary>
    /// <see cref="Search"/> as a LIKE pattern that matches it anywhere: its own %, _ and \ escaped with
    /// a backslash, so they match only themselves (a store's LIKE must say ESCAPE '\' where that is not the default).
    /// </summary>
    public string? ContainsPattern => Search is null ? null
        : "%" + Search.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";
}
