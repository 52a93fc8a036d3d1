using VideoEncode.Api.Jobs.Heartbeats;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Changes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;
using VideoEncode.Api.Versioning;
using VideoEncode.Contracts;
using static VideoEncode.Api.Jobs.Http.JobAnswers;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// The routes a worker walks a job through: claim (optionally waiting for work), heartbeat,
/// finish, fail and release. Every step after the claim quotes the claim's token; a token that is
/// not the job's current one answers 409 and changes nothing. Only the original service's
/// clients go unfenced: GET claim (a long lease) and a finish without a body (<see cref="QueueOptions.LegacyFinish"/>).
/// </summary>
internal static class WorkerRoutes
{
    public static RouteGroupBuilder MapWorkerRoutes(this RouteGroupBuilder group)
    {
        group.MapGet("/claim", ClaimForOriginalClients)
            .RequireAccess(Access.Work)
            .WithSummary("Claim the next job (the original service's route: a long lease, no heartbeats expected)");
        group.MapPost("/claim", Claim)
            .RequireAccess(Access.Work)
            .WithMetadata(new RequestBodyDocumentation(typeof(ClaimRequest)))
            .WithSummary("Claim the next job; with \"wait\", wait up to 60 s for one")
            .WithDescription("The answer carries claim_token and lease_expires_at. Highest priority first, then oldest.");
        group.MapPost("/{id}/heartbeat", Heartbeat)
            .RequireAccess(Access.Work)
            .WithMetadata(new RequestBodyDocumentation(typeof(Heartbeat)))
            .WithSummary("Renew a claim's lease and report progress; the answer says whether a cancel was requested");
        group.MapPost("/{id}/finish", Finish)
            .RequireAccess(Access.Work)
            .WithMetadata(new RequestBodyDocumentation(typeof(FinishReport)))
            .WithSummary("Mark a claimed job finished (without a body: unfenced, as the original service, where the host allows it)");
        group.MapPost("/{id}/fail", Fail)
            .RequireAccess(Access.Work)
            .WithMetadata(new RequestBodyDocumentation(typeof(FailureReport)))
            .WithSummary("Mark a claimed job failed, or with retryable=true send it back to the queue after a backoff");
        group.MapPost("/{id}/release", Release)
            .RequireAccess(Access.Work)
            .WithMetadata(new RequestBodyDocumentation(typeof(ClaimProof)))
            .WithSummary("Give a claimed job back untouched (a worker shutting down); the attempt is not counted");
        return group;
    }

    private static Task<Results<Ok<Job>, NotFound<NoJob>, BadRequest<ApiError>, JsonHttpResult<ApiError>, JsonHttpResult<VersionMismatch>, EmptyHttpResult>> ClaimForOriginalClients(
        HttpRequest request, Caller caller, IJobStore store, ClaimWaiters waiters, LiveClaims live, KeyRing keys, CancellationToken aborted) =>
        ClaimOrWait(new ClaimRequest(Media: MediaKinds.Shared), legacyClient: true, request, caller, store, waiters, live, keys, aborted);

    private static async Task<Results<Ok<Job>, NotFound<NoJob>, BadRequest<ApiError>, JsonHttpResult<ApiError>, JsonHttpResult<VersionMismatch>, EmptyHttpResult>> Claim(
        HttpRequest request, Caller caller, IJobStore store, ClaimWaiters waiters, LiveClaims live, KeyRing keys, CancellationToken aborted)
    {
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: true);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (claim, error) = JobInput.ParseClaim(document?.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            return await ClaimOrWait(claim!, legacyClient: false, request, caller, store, waiters, live, keys, aborted);
        }
    }

    /// <summary>
    /// Claims at once, or — with a wait — waits in line (<see cref="ClaimWaiters"/>) until a job
    /// may have become claimable and tries again, answering 404 when the wait runs out. A job
    /// claimed for a client that has gone away is given back at once, its attempt not counted.
    /// While the queue is paused, or outside its schedule or the worker's, a claim waits as if the queue were empty
    /// (resuming or a change of schedule wakes it; a window that opens does not, so such a claim may wait out its wait); a
    /// worker being drained is answered at once, so it learns to stop. The key, checked when the request
    /// came in, is asked again after each wait: a key revoked while its claim waited gets no job, but 401.
    /// The caller's key limits the lines its claims may wait in (<see cref="ClaimWaiters.MaxLinesPerKey"/>).
    /// First of all, a worker whose protocol this host cannot serve is refused with 426 (<see cref="WorkerCompatibility"/>).
    /// </summary>
    private static async Task<Results<Ok<Job>, NotFound<NoJob>, BadRequest<ApiError>, JsonHttpResult<ApiError>, JsonHttpResult<VersionMismatch>, EmptyHttpResult>> ClaimOrWait(
        ClaimRequest claim, bool legacyClient, HttpRequest request, Caller caller, IJobStore store, ClaimWaiters waiters, LiveClaims live, KeyRing keys,
        CancellationToken aborted)
    {
        var header = request.Headers[Versions.WorkerHeader].ToString();
        switch (WorkerCompatibility.Check(header))
        {
            case WorkerCompatibility.Refusal.Malformed malformed:
                return TypedResults.BadRequest(new ApiError(malformed.Message) { Field = Versions.WorkerHeader });
            case WorkerCompatibility.Refusal.Unsupported unsupported:
                return TypedResults.Json(unsupported.Answer, statusCode: StatusCodes.Status426UpgradeRequired);
        }
        claim = claim with { WorkerVersion = WorkerCompatibility.VersionOf(header), TakesTasks = claim.Encoders is not null && WorkerCompatibility.TakesTasks(header) };
        // Wall-clock time, not the queue's TimeProvider: "wait" is how long a client's request stays
        // open, whatever time the queue keeps (tests move that clock by hand).
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(claim.Wait ?? 0);
        var ticket = waiters.Enter(claim.Media, claim.Encoders, caller.Name);
        try
        {
            while (true)
            {
                JobStep step;
                var asked = live.Now();
                try
                {
                    step = await store.ClaimAsync(claim, legacyClient, aborted);
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    return TypedResults.Empty; // gone before its write started: nothing was claimed
                }
                if (step.Job is { } job)
                {
                    if (!aborted.IsCancellationRequested)
                    {
                        // Its worker's heartbeats are then answered from memory until the lease needs renewing (LiveClaims.TryBeat).
                        live.Remember(job, job.ClaimToken!, asked);
                        return TypedResults.Ok(job);
                    }
                    await store.GiveBackUndeliveredClaimAsync(job.Id, job.ClaimToken!);
                    return TypedResults.Empty;
                }
                if (step.Outcome == StepOutcome.Draining)
                    return TypedResults.NotFound(new NoJob($"Worker '{claim.Worker}' is draining: it finishes its running jobs and claims no more.") { Drain = true });
                var remaining = deadline - DateTimeOffset.UtcNow;
                if (remaining <= TimeSpan.Zero)
                    return TypedResults.NotFound(step.Outcome == StepOutcome.OutsideSchedule
                        ? new NoJob(NoJob.NoJobsAvailable) { Reason = NoJob.OutsideSchedule, OpensAt = step.OpensAt }
                        : new NoJob(NoJob.NoJobsAvailable) { Paused = step.Outcome == StepOutcome.Paused });
                bool woken;
                try
                {
                    var recheck = waiters.RecheckAfter;
                    await ticket.Woken.WaitAsync(recheck != Timeout.InfiniteTimeSpan && recheck < remaining ? recheck : remaining, aborted);
                    woken = true;
                }
                catch (TimeoutException)
                {
                    // Not woken: the loop answers 404 if the wait is over, or — a shared store's recheck —
                    // looks again, keeping its place in the line.
                    woken = false;
                }
                catch (OperationCanceledException)
                {
                    return TypedResults.Empty; // the client went away; nobody to answer
                }
                // Before the wake is spent: a revoked key's wake goes on to the next waiter as the ticket is let go.
                if (!await keys.StillWorksAsync(request))
                    return TypedResults.Json(new ApiError("Unauthorized"), statusCode: StatusCodes.Status401Unauthorized);
                if (woken)
                {
                    // Out of the line: spend the wake on the next attempt, in line again before it.
                    ticket.Spend();
                    ticket.Dispose();
                    ticket = waiters.Enter(claim.Media, claim.Encoders, caller.Name);
                }
            }
        }
        finally
        {
            ticket.Dispose();
        }
    }

    /// <summary>
    /// Answered from memory when only progress is new (<see cref="LiveClaims"/>): this host knows the claim and
    /// its lease is not yet due for renewal (<see cref="JobTransitions.RenewWithinSeconds"/>). Otherwise the store
    /// renews the lease, and its answer is remembered.
    /// </summary>
    private static async Task<JobAnswer> Heartbeat(string id, HttpRequest request, IJobStore store, LiveClaims live, JobChangeSink sink,
        CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: true);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (token, tokenError) = JobInput.RequiredClaimToken(document?.RootElement);
            if (tokenError is not null) return TypedResults.BadRequest(tokenError);
            var (report, reportError) = JobInput.ParseHeartbeat(document!.RootElement, token!);
            if (reportError is not null) return TypedResults.BadRequest(reportError);
            if (live.TryBeat(jobId, report!) is { } known)
            {
                sink.Progressed(known);
                return TypedResults.Ok(known);
            }
            var asked = live.Now();
            var step = await store.HeartbeatAsync(jobId, report!, aborted);
            if (step is { Outcome: StepOutcome.Done, Job: { } renewed }) live.Remember(renewed, token!, asked);
            // Not this claim's any more (or no such job): whatever this host remembers of it is out of date, should
            // the change that ended it never have reached this host.
            else live.Forget(jobId);
            return Answer(step, "heartbeat");
        }
    }

    private static async Task<JobAnswer> Finish(string id, HttpRequest request, IJobStore store, IOptions<QueueOptions> options, ApiKeyStore keys,
        CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: true);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            // No body at all: the original service's unfenced finish, where the host allows it.
            FinishReport? report = null;
            if (document is not null)
            {
                (report, var error) = JobInput.ParseFinish(document.RootElement);
                if (error is not null) return TypedResults.BadRequest(error);
            }
            else if (!(options.Value.LegacyFinish ?? !await keys.AnyAsync()))
                return TypedResults.BadRequest(new ApiError(
                    "A finish must quote its claim: send {\"claim_token\": …}. This host does not take the original service's finish without a body, " +
                    $"which would let any worker key finish any running job (set {SettingNames.LegacyFinishVariable}=true to allow it). Nothing was changed.")
                    { Field = "claim_token" });
            return Answer(await store.FinishAsync(jobId, report, aborted), "finish", notFound: NotStartedMessage);
        }
    }

    private static async Task<JobAnswer> Fail(string id, HttpRequest request, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxStepBodyBytes, optional: true);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var (report, error) = JobInput.ParseFailure(document?.RootElement);
            if (error is not null) return TypedResults.BadRequest(error);
            return Answer(await store.FailAsync(jobId, report!, aborted), "fail", notFound: NotStartedMessage);
        }
    }

    private static async Task<JobAnswer> Release(string id, HttpRequest request, IJobStore store, CancellationToken aborted)
    {
        if (ParseId(id) is not { } jobId) return InvalidId();
        var (token, problem) = await ReadClaimTokenAsync(request, TokenRule.Required);
        if (problem is not null) return problem;
        return Answer(await store.ReleaseAsync(jobId, token!, aborted), "release");
    }
}
