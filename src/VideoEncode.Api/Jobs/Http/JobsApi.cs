using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Jobs.Heartbeats;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Api.Profiles;
using VideoEncode.Api.Quotas;
using static VideoEncode.Api.Jobs.Http.JobAnswers;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// The /api/jobs routes for people and their tools: the original service's enqueue, list,
/// delete and reset, plus get, cancel and retry. The routes workers use are in
/// <see cref="WorkerRoutes"/>. The API key is checked before any handler runs; handlers only turn
/// what the store answers into HTTP (the store announces the changes it made).
/// </summary>
public static class JobsApi
{
    /// <summary>Bulk requests carry up to 10,000 jobs of at most ~1 KB each; anything larger is refused.</summary>
    public const long MaxBodyBytes = 16 * 1024 * 1024;

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly IReadOnlyDictionary<string, Contracts.EncodeSettings> NoProfiles = new Dictionary<string, Contracts.EncodeSettings>();
    private const int MaxIdempotencyKeyLength = 255;

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs").RequireAccess(Access.Read);

        group.MapPost("/", Create).RequireAccess(Access.Submit)
            .WithMetadata(new RequestBodyDocumentation(typeof(NewJob), typeof(NewJob[])))
            .WithSummary("Enqueue one job, or an array of up to 10,000 (all or nothing)")
            .WithDescription("Answers 201 with an array of the created jobs, also for a single job. With an Idempotency-Key header, " +
                             "a repeat within 24 hours answers 201 with the jobs the first request created and creates nothing. A job with a \"source\" " +
                             "(a watched folder's file: path, size, mtime) enqueued before answers 409 with its job_id and creates nothing. " +
                             "Over a quota of the key (jobs_per_day, encode_seconds_per_day, max_pending) it answers 429 with Retry-After and " +
                             "{\"error\", \"quota\", \"retry_after_seconds\"}, and creates nothing.");
        group.MapGet("/", List).WithSummary("List jobs, newest first (or sort=oldest|priority|status); status and q (a piece of the file name) filter");
        group.MapGet("/{id}", Get).WithSummary("One job (a job made of tasks lists its outputs)");
        group.MapGet("/{id}/tasks", Tasks).WithSummary("A job's tasks: each output, package, thumbnails, a split job's chunks, with their workers and progress");
        group.MapDelete("/{id}", Delete).RequireAccess(Access.Admin).WithSummary("Delete a job in any state");
        group.MapPost("/{id}/cancel", Cancel).RequireAccess(Access.Submit, claimHolders: true)
            .WithSummary("Cancel a job: a pending one at once, a running one when its worker stops it")
            .WithDescription("A worker acknowledging a cancel request sends {\"claim_token\": …}.");
        group.MapPost("/{id}/retry", Retry).RequireAccess(Access.Submit).WithSummary("Put a failed or cancelled job back in the queue");
        group.MapPost("/{id}/reset", Reset).RequireAccess(Access.Admin).WithSummary("Put a job in any state back in the queue, as if never claimed");
        group.MapBulk();
        group.MapWorkerRoutes();
        routes.MapMediaDownloads();           // a job's media at /api/jobs/{id}/input and /output
        return group;
    }

    private static async Task<Results<Created<IReadOnlyList<Contracts.Job>>, BadRequest<ApiError>, Conflict<ApiError>, UnprocessableEntity<ApiError>,
        JsonHttpResult<ApiError>, JsonHttpResult<QuotaError>>> Create(HttpRequest request, Caller caller, IJobStore store, ProfileStore profileStore, CancellationToken aborted)
    {
        var key = request.Headers[IdempotencyKeyHeader].ToString();
        if (key.Length > MaxIdempotencyKeyLength || key.Any(c => c is < ' ' or > '~'))
            return TypedResults.BadRequest(new ApiError(
                $"The {IdempotencyKeyHeader} header must be 1 to {MaxIdempotencyKeyLength} printable ASCII characters."));
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var named = JobInput.ProfileNames(document!.RootElement);
            var profiles = named.Count == 0 ? NoProfiles : (await profileStore.FindAsync(named)).ToDictionary(found => found.Key, found => found.Value.Settings);
            var (jobs, error) = JobInput.Parse(document.RootElement, profiles);
            if (error is not null) return TypedResults.BadRequest(error);
            var idempotency = key.Length == 0 ? null : new IdempotencyKey(key,
                Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(document.RootElement.GetRawText()))));
            var result = await store.CreateAsync(jobs!, idempotency, caller.Name, aborted);
            if (result.Quota is { } overQuota)
            {
                request.HttpContext.Response.Headers.RetryAfter = overQuota.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Json(QuotaError.Of(overQuota), statusCode: StatusCodes.Status429TooManyRequests);
            }
            return result.Outcome switch
            {
                EnqueueOutcome.Created or EnqueueOutcome.Replayed => TypedResults.Created((string?)null, result.Jobs),
                EnqueueOutcome.KeyReused => TypedResults.UnprocessableEntity(new ApiError(
                    $"This {IdempotencyKeyHeader} was used with a different request body in the last 24 hours; use a new key for a new request.")),
                EnqueueOutcome.UploadMissing => TypedResults.BadRequest(new ApiError(
                    $"{(jobs!.Count > 1 ? $"Job at index {result.Index}: " : "")}{result.Name}; nothing was stored.")
                    { Index = jobs.Count > 1 ? result.Index : null, Field = "upload_id" }),
                EnqueueOutcome.SourceSeen => TypedResults.Conflict(new ApiError(
                    $"{(jobs!.Count > 1 ? $"Job at index {result.Index}: " : "")}source '{result.Name}' was enqueued before, as job {result.SeenAs}, " +
                    "with this size and mtime; nothing was stored.") { Index = jobs.Count > 1 ? result.Index : null, Field = "source", JobId = result.SeenAs }),
                _ => TypedResults.Conflict(new ApiError(
                    $"{(jobs!.Count > 1 ? $"Job at index {result.Index}: " : "")}output_name '{result.Name}' is taken by a pending or running job " +
                    "(or named twice in this request); nothing was stored.") { Index = jobs.Count > 1 ? result.Index : null, Field = "output_name" }),
            };
        }
    }

    /// <summary>Jobs as stored, running ones with the progress this host holds that is not written yet (<see cref="LiveClaims"/>).</summary>
    private static async Task<Results<Ok<IReadOnlyList<Contracts.Job>>, BadRequest<ApiError>>> List(HttpRequest request, IJobStore store, LiveClaims live)
    {
        var (query, error) = JobListQuery.Parse(request.Query);
        if (error is not null) return TypedResults.BadRequest(error);
        return TypedResults.Ok<IReadOnlyList<Contracts.Job>>((await store.ListAsync(query!)).Select(live.Overlay).ToList());
    }

    private static async Task<Results<Ok<Contracts.Job>, NotFound<ApiError>, BadRequest<ApiError>>> Get(string id, IJobStore store, LiveClaims live)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        if (await store.GetAsync(jobId) is not { } job) return TypedResults.NotFound(new ApiError("Job not found"));
        if (!job.HasTasks || await store.TasksAsync(jobId) is not { } tasks) return TypedResults.Ok(live.Overlay(job));
        // A running job's progress is its tasks' as their workers report it, not the sum last written with a change of theirs.
        var progress = TaskRollup.Progress(tasks.Tasks.Select(live.Overlay).Select(task => (Contracts.JobStatus.Parse(task.Status) ?? Contracts.JobState.Pending, task.Progress)));
        return TypedResults.Ok(job with { Outputs = tasks.Outputs, Progress = job.State == Contracts.JobState.InProgress ? progress : job.Progress });
    }

    /// <summary>A job's tasks, running ones with the progress this host holds that is not written yet (<see cref="LiveClaims"/>).</summary>
    private static async Task<Results<Ok<IReadOnlyList<Contracts.TaskLine>>, NotFound<ApiError>, BadRequest<ApiError>>> Tasks(string id, IJobStore store, LiveClaims live)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        return await store.TasksAsync(jobId) is { } tasks
            ? TypedResults.Ok<IReadOnlyList<Contracts.TaskLine>>(tasks.Tasks.Select(live.Overlay).ToList())
            : TypedResults.NotFound(new ApiError("Job not found"));
    }

    private static async Task<Results<Ok<SuccessMessage>, NotFound<ApiError>, BadRequest<ApiError>>> Delete(
        string id, Caller caller, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var step = await store.DeleteAsync(jobId, caller.Name, aborted);
        return step.Outcome == StepOutcome.Done
            ? TypedResults.Ok(new SuccessMessage("Job deleted successfully"))
            : TypedResults.NotFound(new ApiError("Job not found"));
    }

    private static async Task<JobAnswer> Cancel(string id, HttpRequest request, Caller caller, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (token, problem) = await ReadClaimTokenAsync(request, TokenRule.Optional);
        if (problem is not null) return problem;
        // A worker's key cancels only the job it holds: it confirms a cancel with its claim token.
        if (token is null && !caller.May(Access.Submit))
            return TypedResults.Json(new ApiError($"The key '{caller.Name}' has the role '{caller.Role}': it may confirm a cancel of a job it holds " +
                $"(with its claim_token), not cancel others; that needs {Roles.AllowedFor(Access.Submit)}."), statusCode: StatusCodes.Status403Forbidden);
        var step = await store.CancelAsync(jobId, token, caller.Name, aborted);
        return Answer(step, "cancel", wrongState: $"Job is {step.Job?.Status}; only pending and running jobs can be cancelled.");
    }

    private static async Task<JobAnswer> Retry(string id, Caller caller, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var step = await store.RetryAsync(jobId, caller.Name, aborted);
        return Answer(step, "retry", wrongState: $"Job is {step.Job?.Status}; only failed and cancelled jobs can be retried.");
    }

    private static async Task<JobAnswer> Reset(string id, Caller caller, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        return Answer(await store.ResetAsync(jobId, caller.Name, aborted), "reset");
    }
}
