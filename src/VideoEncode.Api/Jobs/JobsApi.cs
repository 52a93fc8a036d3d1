using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Extensions;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The /api/jobs routes: the original service's contract (enqueue, claim, finish, list, delete,
/// reset) plus GET by id and POST claim. Handlers validate and call <see cref="JobStore"/>;
/// the API key is checked before any of them runs.
/// </summary>
public static class JobsApi
{
    /// <summary>Bulk requests carry up to 10,000 jobs of at most ~1 KB each; anything larger is refused.</summary>
    public const long MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>A failure report: a message and a 4 KB log tail, with room for escaping.</summary>
    private const long MaxFailureBodyBytes = 64 * 1024;

    private const string None = "none";

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs");

        group.MapPost("/", Create)
            .WithMetadata(new RequestBodyDocumentation(typeof(NewJob), typeof(NewJob[])))
            .WithSummary("Enqueue one job, or an array of up to 10,000 (all or nothing)")
            .WithDescription("Answers 201 with an array of the created jobs, also for a single job.");
        group.MapGet("/", List).WithSummary("List jobs, newest first");
        group.MapGet("/claim", Claim).WithSummary("Claim the oldest pending job (for the original service's clients)");
        group.MapPost("/claim", Claim).WithSummary("Claim the oldest pending job");
        group.MapGet("/{id}", Get).WithSummary("One job");
        group.MapDelete("/{id}", Delete).WithSummary("Delete a job in any state");
        group.MapPost("/{id}/finish", Finish).WithSummary("Mark a claimed job finished");
        group.MapPost("/{id}/fail", Fail)
            .WithMetadata(new RequestBodyDocumentation(typeof(FailureReport)))
            .WithSummary("Mark a claimed job failed, with the reason and the tail of ffmpeg's log");
        group.MapPost("/{id}/reset", Reset).WithSummary("Put a job back in the queue, cleared of its start and finish times");
        return group;
    }

    private static async Task<Results<Created<IReadOnlyList<Job>>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Create(
        HttpRequest request, JobStore store, ILogger<JobStore> logger)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (jobs, error) = JobInput.Parse(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            var created = await store.CreateAsync(jobs!);
            foreach (var job in created)
                logger.Log(new Transition(None, job), "enqueue");
            return TypedResults.Created((string?)null, created);
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<Job>>, BadRequest<ApiError>>> List(HttpRequest request, JobStore store)
    {
        var (query, error) = JobListQuery.Parse(request.Query);
        if (error is not null) return TypedResults.BadRequest(error);
        return TypedResults.Ok(await store.ListAsync(query!));
    }

    private static async Task<Results<Ok<Job>, NotFound<ApiError>>> Claim(JobStore store, ILogger<JobStore> logger)
    {
        var job = await store.ClaimAsync();
        if (job is null) return TypedResults.NotFound(new ApiError("No jobs available"));
        logger.Log(new Transition(JobStatus.Pending, job), "claim");
        return TypedResults.Ok(job);
    }

    private static async Task<Results<Ok<Job>, NotFound<ApiError>, BadRequest<ApiError>>> Get(string id, JobStore store)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        return await store.GetAsync(jobId) is { } job ? TypedResults.Ok(job) : JobNotFound();
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>> Delete(
        string id, JobStore store, ILogger<JobStore> logger)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var from = await store.DeleteAsync(jobId);
        if (from is null) return JobNotFound();
        JobLog.StateChanged(logger, jobId, from, "deleted", "delete");
        return TypedResults.Ok(new SuccessMessage("Job deleted successfully"));
    }

    private static async Task<Results<Ok<Job>, NotFound<ApiError>, BadRequest<ApiError>>> Finish(
        string id, JobStore store, ILogger<JobStore> logger)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var change = await store.FinishAsync(jobId);
        if (change is null) return NotStarted();
        if (change.From != change.Job.Status) logger.Log(change, "finish");
        return TypedResults.Ok(change.Job);
    }

    private static async Task<Results<Ok<Job>, NotFound<ApiError>, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Fail(
        string id, HttpRequest request, JobStore store, ILogger<JobStore> logger)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxFailureBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (report, error) = JobInput.ParseFailure(document!.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            var change = await store.FailAsync(jobId, report!);
            if (change is null) return NotStarted();
            if (change.From != change.Job.Status) logger.Log(change, "fail");
            return TypedResults.Ok(change.Job);
        }
    }

    private static async Task<Results<Ok<Job>, NotFound<ApiError>, BadRequest<ApiError>>> Reset(
        string id, JobStore store, ILogger<JobStore> logger)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var change = await store.ResetAsync(jobId);
        if (change is null) return JobNotFound();
        logger.Log(change, "reset");
        return TypedResults.Ok(change.Job);
    }

    /// <summary>Digits only: no sign, spaces or exponent; too large for a job id is invalid too.</summary>
    private static long? ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static BadRequest<ApiError> InvalidId() => TypedResults.BadRequest(new ApiError("Invalid job ID"));

    private static NotFound<ApiError> NotStarted() => TypedResults.NotFound(new ApiError("Job not found or not started"));

    private static NotFound<ApiError> JobNotFound() => TypedResults.NotFound(new ApiError("Job not found"));
}
