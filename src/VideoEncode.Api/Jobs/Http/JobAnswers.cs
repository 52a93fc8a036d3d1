global using JobAnswer = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Ok<VideoEncode.Contracts.Job>,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.Conflict<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<VideoEncode.Api.Http.ApiError>>;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Http;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>Where a step's claim token comes from.</summary>
public enum TokenRule
{
    /// <summary>The body must quote the claim (heartbeat, fail, release).</summary>
    Required,
    /// <summary>A person's cancel has none; a worker acknowledging a cancel quotes its claim.</summary>
    Optional,
}

/// <summary>How the job routes answer: one mapping from a store outcome to HTTP, used by every handler.</summary>
internal static class JobAnswers
{
    public const string NotStartedMessage = "Job not found or not started";

    public const string StaleClaimMessage =
        "This claim is no longer the job's current claim: the job was reclaimed after its lease expired, reset, " +
        "cancelled or deleted. Nothing was changed.";

    /// <summary>Bodies of worker steps (claim, heartbeat, finish …) are small.</summary>
    public const long MaxStepBodyBytes = 64 * 1024;

    public static JobAnswer Answer(JobStep step, string action, string notFound = "Job not found", string? wrongState = null) =>
        step.Outcome switch
        {
            StepOutcome.Done => TypedResults.Ok(step.Job!),
            StepOutcome.NotFound => TypedResults.NotFound(new ApiError(notFound)),
            StepOutcome.NotRunning => TypedResults.NotFound(new ApiError(NotStartedMessage)),
            StepOutcome.StaleClaim => TypedResults.Conflict(new ApiError(StaleClaimMessage)),
            StepOutcome.ResultMissing => TypedResults.BadRequest(new ApiError(
                "This job's input is in the host's media store, so its finish must name the upload holding the result: " +
                "output_upload_id, of an upload that is complete (every byte sent).") { Field = "output_upload_id" }),
            StepOutcome.ReportRefused => TypedResults.BadRequest(new ApiError(step.Refusal!.Message) { Field = step.Refusal.Field }),
            StepOutcome.OutputTaken => TypedResults.Conflict(new ApiError(
                $"Another pending or running job writes the same output_name '{step.Job!.OutputName}'; cancel or delete it first.") { Field = "output_name" }),
            _ => TypedResults.Conflict(new ApiError(wrongState ?? $"Job is {step.Job!.Status}; {action} does not apply.")),
        };

    /// <summary>The claim token in a step's body, by <paramref name="rule"/>. A problem is an answer ready to return.</summary>
    public static async Task<(string? Token, JobAnswer? Problem)> ReadClaimTokenAsync(HttpRequest request, TokenRule rule)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: true);
        if (bodyError is not null) return (null, bodyError);
        using (document)
        {
            if (document is null && rule != TokenRule.Required) return (null, null);
            var (token, error) = rule == TokenRule.Optional
                ? JobInput.OptionalClaimToken(document?.RootElement)
                : JobInput.RequiredClaimToken(document?.RootElement);
            return error is null ? (token, null) : (null, TypedResults.BadRequest(error));
        }
    }

    /// <summary>Digits only: no sign, spaces or exponent; too large for a job id is invalid too.</summary>
    public static long? ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static BadRequest<ApiError> InvalidId() => TypedResults.BadRequest(new ApiError("Invalid job ID"));
}
