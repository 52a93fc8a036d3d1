global using JobAnswer = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Ok<VideoEncode.Contracts.Job>,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.Conflict<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<VideoEncode.Api.Http.ApiError>>;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Events;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>How the job routes answer: one mapping from a store outcome to HTTP, used by every handler.</summary>
internal static class JobResults
{
    public const string NotStartedMessage = "Job not found or not started";

    public const string StaleClaimMessage =
        "This claim is no longer the job's current claim: the job was reclaimed after its lease expired, reset, " +
        "cancelled or deleted. Nothing was changed.";

    /// <summary>Bodies of worker steps (claim, heartbeat, finish …) are small.</summary>
    public const long MaxStepBodyBytes = 64 * 1024;

    public static JobAnswer Answer(
        JobChange change, JobChanges changes, string route, string notFound = "Job not found", string? wrongState = null)
    {
        if (change is { Outcome: ChangeOutcome.Changed, Job: { } job, From: { } from } && from != job.Status)
            changes.Moved(job, from, route);
        else if (change is { Outcome: ChangeOutcome.Unchanged, Job: { } same } && route is "heartbeat" or "cancel")
            changes.Updated(same, route);
        return change.Outcome switch
        {
            ChangeOutcome.Changed or ChangeOutcome.Unchanged => TypedResults.Ok(change.Job!),
            ChangeOutcome.NotFound => TypedResults.NotFound(new ApiError(notFound)),
            ChangeOutcome.NotRunning => TypedResults.NotFound(new ApiError(NotStartedMessage)),
            ChangeOutcome.StaleClaim => TypedResults.Conflict(new ApiError(StaleClaimMessage)),
            _ => TypedResults.Conflict(new ApiError(wrongState ?? $"Job is {change.Job!.Status}; {route} does not apply.")),
        };
    }

    /// <summary>
    /// The claim token in a worker step's body: required (heartbeat, release), or optional
    /// (finish and cancel, unfenced without one). A problem is an answer ready to return.
    /// </summary>
    public static async Task<(string? Token, JobAnswer? Problem)> ReadClaimTokenAsync(HttpRequest request, bool required)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: !required);
        if (bodyError is not null) return (null, bodyError);
        using (document)
        {
            var (token, error) = required
                ? JobInput.RequiredClaimToken(document?.RootElement)
                : JobInput.OptionalClaimToken(document?.RootElement);
            return error is null ? (token, null) : (null, TypedResults.BadRequest(error));
        }
    }

    /// <summary>Digits only: no sign, spaces or exponent; too large for a job id is invalid too.</summary>
    public static long? ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static BadRequest<ApiError> InvalidId() => TypedResults.BadRequest(new ApiError("Invalid job ID"));
}
