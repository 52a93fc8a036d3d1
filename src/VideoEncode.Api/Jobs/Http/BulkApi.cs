using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// The answer to a bulk action: how many jobs changed and which (the first <see cref="BulkRules.MaxListed"/>,
/// newest first), those skipped with why (as many), the whole count of skipped ones, and whether the
/// filter matched more jobs than one request handles (repeat it for the rest).
/// </summary>
public sealed record BulkAnswer(int Changed, IReadOnlyList<long> ChangedIds, IReadOnlyList<BulkSkip> Skipped, int SkippedCount, bool MoreMatched);

/// <summary>
/// POST /api/jobs/bulk: cancel, retry, reset or delete many jobs with one request — the jobs listed
/// by id, or those a filter (status, q) matches — in one transaction. Each action needs its single
/// route's role (cancel and retry: submit; reset and delete: admin), checked here for the action asked.
/// </summary>
public static class BulkApi
{
    /// <summary>10,000 ids of up to 19 digits and their commas, with room to spare.</summary>
    private const long MaxBodyBytes = 256 * 1024;

    private const string Shape = """{"action": "retry", "ids": [1, 2]} or {"action": "retry", "status": "failed", "q": "…"}""";

    public static RouteHandlerBuilder MapBulk(this RouteGroupBuilder jobs) =>
        jobs.MapPost("/bulk", Bulk).RequireAccess(Access.Submit)
            .WithSummary("Cancel, retry, reset or delete many jobs at once: by ids, or every job a filter (status, q) matches")
            .WithDescription($"Body: {Shape}. Cancel and retry need a submit or admin key, reset and delete an admin key. " +
                             $"At most {BulkRules.MaxJobs} ids; a filter handles the newest {BulkRules.MaxJobs} matches and says more_matched " +
                             "when there were more. Jobs an action does not apply to are skipped with a reason (running jobs are not deleted: cancel them first).");

    private static async Task<Results<Ok<BulkAnswer>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Bulk(
        HttpRequest request, Caller caller, IJobStore store, CancellationToken aborted)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (action, target, error) = Parse(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            var needs = BulkRules.Needs(action);
            if (!caller.May(needs))
                return TypedResults.Json(new ApiError($"The key '{caller.Name}' has the role '{caller.Role}', which may not " +
                    $"{BulkRules.Names.First(pair => pair.Value == action).Key} jobs; that needs {Roles.AllowedFor(needs)}."),
                    statusCode: StatusCodes.Status403Forbidden);
            var result = await store.BulkAsync(action, target!, caller.Name, aborted);
            return TypedResults.Ok(new BulkAnswer(result.ChangedIds.Count, result.ChangedIds.Take(BulkRules.MaxListed).ToList(),
                result.Skipped.Take(BulkRules.MaxListed).ToList(), result.Skipped.Count, result.MoreMatched));
        }
    }

    private static (JobAction Action, BulkTarget? Target, ApiError? Error) Parse(JsonElement body)
    {
        static (JobAction, BulkTarget?, ApiError?) Fail(string message, string? field = null) =>
            (default, null, new ApiError(message) { Field = field });

        if (body.ValueKind != JsonValueKind.Object) return Fail($"The body must be a JSON object: {Shape}.");
        if (!body.TryGetProperty("action", out var actionValue) || actionValue.ValueKind != JsonValueKind.String
            || !BulkRules.Names.TryGetValue(actionValue.GetString()!, out var action))
            return Fail($"action must be one of: {string.Join(", ", BulkRules.Names.Keys)}.", "action");

        var hasIds = body.TryGetProperty("ids", out var idsValue);
        var hasStatus = body.TryGetProperty("status", out var statusValue);
        var hasSearch = body.TryGetProperty("q", out var searchValue);
        if (hasIds && (hasStatus || hasSearch)) return Fail("Name the jobs by ids or by a filter (status, q), not both.");
        if (hasIds)
        {
            if (idsValue.ValueKind != JsonValueKind.Array) return Fail("ids must be an array of job ids.", "ids");
            var ids = new HashSet<long>();
            foreach (var id in idsValue.EnumerateArray())
                if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out var value) || value < 1)
                    return Fail("ids must be an array of job ids (whole numbers from 1).", "ids");
                else ids.Add(value);
            if (ids.Count is 0 or > BulkRules.MaxJobs) return Fail($"ids must name 1 to {BulkRules.MaxJobs} jobs.", "ids");
            return (action, new BulkTarget(ids.ToList(), null), null);
        }
        if (!hasStatus && !hasSearch)
            return Fail($"Name the jobs: ids, or a filter — status (\"all\" for any) and/or q. {Shape}.");
        if ((hasStatus && statusValue.ValueKind != JsonValueKind.String) || (hasSearch && searchValue.ValueKind != JsonValueKind.String))
            return Fail("status and q must be strings.", hasStatus && statusValue.ValueKind != JsonValueKind.String ? "status" : "q");
        var (filter, filterError) = JobFilter.Parse(hasStatus ? statusValue.GetString() : null, hasSearch ? searchValue.GetString() : null);
        return filterError is null ? (action, new BulkTarget(null, filter), null) : (default, null, filterError);
    }
}
