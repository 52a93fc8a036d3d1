using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Events;
using VideoEncode.Api.Extensions;
using VideoEncode.Api.Http;
using static VideoEncode.Api.Jobs.JobResults;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The /api/jobs routes for people and their tools: the original service's enqueue, list,
/// delete and reset, plus get, cancel and retry. The routes workers use are in
/// <see cref="WorkerRoutes"/>. The API key is checked before any handler runs.
/// </summary>
public static class JobsApi
{
    /// <summary>Bulk requests carry up to 10,000 jobs of at most ~1 KB each; anything larger is refused.</summary>
    public const long MaxBodyBytes = 16 * 1024 * 1024;

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs");

        group.MapPost("/", Create)
            .WithMetadata(new RequestBodyDocumentation(typeof(NewJob), typeof(NewJob[])))
            .WithSummary("Enqueue one job, or an array of up to 10,000 (all or nothing)")
            .WithDescription("Answers 201 with an array of the created jobs, also for a single job.");
        group.MapGet("/", List).WithSummary("List jobs, newest first");
        group.MapGet("/{id}", Get).WithSummary("One job");
        group.MapDelete("/{id}", Delete).WithSummary("Delete a job in any state");
        group.MapPost("/{id}/cancel", Cancel)
            .WithSummary("Cancel a job: a pending one at once, a running one when its worker stops it")
            .WithDescription("A worker acknowledging a cancel request sends {\"claim_token\": …}.");
        group.MapPost("/{id}/retry", Retry).WithSummary("Put a failed or cancelled job back in the queue");
        group.MapPost("/{id}/reset", Reset).WithSummary("Put a job in any state back in the queue, as if never claimed");
        group.MapWorkerRoutes();
        return group;
    }

    private static async Task<Results<Created<IReadOnlyList<Contracts.Job>>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Create(
        HttpRequest request, JobStore store, JobChanges changes)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (jobs, error) = JobInput.Parse(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            var created = await store.CreateAsync(jobs!);
            foreach (var job in created)
                changes.Moved(job, JobChanges.None, "enqueue");
            return TypedResults.Created((string?)null, created);
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<Contracts.Job>>, BadRequest<ApiError>>> List(HttpRequest request, JobStore store)
    {
        var (query, error) = JobListQuery.Parse(request.Query);
        if (error is not null) return TypedResults.BadRequest(error);
        return TypedResults.Ok(await store.ListAsync(query!));
    }

    private static async Task<Results<Ok<Contracts.Job>, NotFound<ApiError>, BadRequest<ApiError>>> Get(string id, JobStore store)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        return await store.GetAsync(jobId) is { } job ? TypedResults.Ok(job) : TypedResults.NotFound(new ApiError("Job not found"));
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>> Delete(
        string id, JobStore store, JobChanges changes)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var from = await store.DeleteAsync(jobId);
        if (from is null) return TypedResults.NotFound(new ApiError("Job not found"));
        changes.Deleted(jobId, from);
        return TypedResults.Ok(new SuccessMessage("Job deleted successfully"));
    }

    private static async Task<JobAnswer> Cancel(string id, HttpRequest request, JobStore store, JobChanges changes)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (token, problem) = await ReadClaimTokenAsync(request, required: false);
        if (problem is not null) return problem;
        var change = await store.CancelAsync(jobId, token);
        return Answer(change, changes, "cancel", wrongState: $"Job is {change.Job?.Status}; only pending and running jobs can be cancelled.");
    }

    private static async Task<JobAnswer> Retry(string id, JobStore store, JobChanges changes)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var change = await store.RetryAsync(jobId);
        return Answer(change, changes, "retry", wrongState: $"Job is {change.Job?.Status}; only failed and cancelled jobs can be retried.");
    }

    private static async Task<JobAnswer> Reset(string id, JobStore store, JobChanges changes)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        return Answer(await store.ResetAsync(jobId), changes, "reset");
    }
}
