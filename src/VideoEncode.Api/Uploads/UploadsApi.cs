using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Configuration;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;
using TusAnswer = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.NoContent,
    Microsoft.AspNetCore.Http.HttpResults.NotFound<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.Conflict<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.BadRequest<VideoEncode.Api.Http.ApiError>,
    Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<VideoEncode.Api.Http.ApiError>>;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// The host's tus 1.0 server at /api/uploads (https://tus.io/protocols/resumable-upload): the core
/// protocol (HEAD, PATCH) with the creation, expiration, checksum and termination extensions — not
/// creation-defer-length, creation-with-upload or concatenation. People upload inputs (submit keys),
/// workers their results (worker keys). Handlers parse headers and map outcomes to HTTP; the work is in
/// <see cref="UploadCreation"/>, <see cref="UploadReceiver"/> and <see cref="UploadTermination"/>.
/// </summary>
public static class UploadsApi
{
    public const string Extensions = "creation,expiration,checksum,termination";

    public static RouteGroupBuilder MapUploads(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Tus.UploadsPath).WithTags("Uploads").RequireAccess(Access.Submit, orAlso: Access.Work)
            .AddEndpointFilter(RequireTusVersion);
        group.MapMethods("/", [HttpMethods.Options], Options).RequireAccess(Access.Read)
            .WithSummary("The tus server's configuration: version, extensions, largest upload, checksum algorithms");
        group.MapGet("/", List).RequireAccess(Access.Admin)
            .WithSummary("Admins: the uploads, newest first (status=all|unfinished|complete, limit, offset): key, size, received, expiry");
        group.MapPost("/", Create).WithSummary("Create an upload (tus creation): Upload-Length, optional Upload-Metadata; answers 201 with its Location");
        group.MapMethods("/{id}", [HttpMethods.Head], Head).WithSummary("Where an upload stands: Upload-Offset, Upload-Length, Upload-Expires");
        group.MapPatch("/{id}", Patch).WithSummary("Append bytes at Upload-Offset (Content-Type: application/offset+octet-stream; optional Upload-Checksum)");
        group.MapDelete("/{id}", Terminate).WithSummary("Terminate an upload: its row and files go (409 while a job refers to it)");
        group.MapPost("/{id}", Override).WithSummary("PATCH or DELETE for clients that cannot send them: X-HTTP-Method-Override");
        return group;
    }

    /// <summary>
    /// Every answer says which tus it speaks; every tus request but OPTIONS must speak the same (412 otherwise, as the
    /// spec says). The admins' list (GET) is not tus and needs no header.
    /// </summary>
    private static async ValueTask<object?> RequireTusVersion(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.Response.Headers[Tus.ResumableHeader] = Tus.Version;
        if (!HttpMethods.IsOptions(http.Request.Method) && !HttpMethods.IsGet(http.Request.Method)
            && http.Request.Headers[Tus.ResumableHeader].ToString() != Tus.Version)
        {
            http.Response.Headers[Tus.VersionHeader] = Tus.Version;
            return Error(StatusCodes.Status412PreconditionFailed, $"This host speaks tus {Tus.Version}: send the header {Tus.ResumableHeader}: {Tus.Version}.");
        }
        return await next(context);
    }

    private static NoContent Options(HttpResponse response, IOptions<QueueOptions> options)
    {
        response.Headers[Tus.VersionHeader] = Tus.Version;
        response.Headers[Tus.ExtensionHeader] = Extensions;
        response.Headers[Tus.MaxSizeHeader] = options.Value.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        response.Headers[Tus.ChecksumAlgorithmHeader] = UploadChecksum.Algorithms;
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<IReadOnlyList<UploadListing>>, BadRequest<ApiError>>> List(HttpRequest request, UploadStore store)
    {
        var (query, error) = UploadListQuery.Parse(request.Query);
        if (error is not null) return TypedResults.BadRequest(error);
        return TypedResults.Ok(await store.ListAsync(query!));
    }

    private static async Task<Results<Created, BadRequest<ApiError>, JsonHttpResult<ApiError>>> Create(
        HttpRequest request, Caller caller, UploadCreation creation, IOptions<QueueOptions> options)
    {
        if (request.Headers.ContainsKey("Upload-Defer-Length"))
            return TypedResults.BadRequest(new ApiError("Upload-Defer-Length is not supported here: send Upload-Length, the file's size in bytes."));
        if (request.Headers.ContainsKey("Upload-Concat"))
            return TypedResults.BadRequest(new ApiError("Upload-Concat is not supported here (no concatenation): upload the file as one upload."));
        if (Number(request.Headers[Tus.UploadLengthHeader]) is not { } length)
            return TypedResults.BadRequest(new ApiError($"{Tus.UploadLengthHeader} is required: the file's size in bytes (a whole number, 0 or more)."));
        var max = options.Value.MaxUploadBytes;
        if (length > max)
            return Error(StatusCodes.Status413PayloadTooLarge, $"{Tus.UploadLengthHeader} {length} is more than this host takes: {max} bytes ({Tus.MaxSizeHeader}).");
        if (request.ContentLength > 0)
            return TypedResults.BadRequest(new ApiError("Send the bytes with PATCH: this host takes none with the creation (no creation-with-upload)."));
        var header = request.Headers[Tus.UploadMetadataHeader].ToString();
        var (metadata, problem) = UploadMetadata.Parse(header);
        if (problem is not null) return TypedResults.BadRequest(new ApiError(problem));

        var (upload, refused, why) = await creation.CreateAsync(length, metadata!, header, caller.Name);
        if (refused is { } refusal)
            return Error(refusal == CreationRefusal.KeyReservationFull ? StatusCodes.Status429TooManyRequests : StatusCodes.Status507InsufficientStorage, why!);
        if (!upload!.IsComplete) request.HttpContext.Response.Headers[Tus.UploadExpiresHeader] = HttpDate(upload.ExpiresAt);
        return TypedResults.Created($"{Tus.UploadsPath}/{upload.Id}");
    }

    private static async Task<Results<Ok, NotFound<ApiError>, JsonHttpResult<ApiError>>> Head(
        string id, HttpResponse response, UploadStore store, UploadSessions sessions, UploadCompletion completion, TimeProvider clock,
        CancellationToken cancel)
    {
        response.Headers.CacheControl = "no-store";
        var upload = MediaStore.IsId(id) ? await store.GetAsync(id) : null;
        if (upload is null) return NoSuchUpload(id);
        // Finish a completion a crash interrupted — unless a PATCH of this upload is under way, which completes it itself.
        if (!upload.IsComplete && sessions.TryBegin(id) is { } session)
        {
            try
            {
                upload = await completion.TryRecoverAsync(upload) ?? upload;
            }
            finally
            {
                sessions.End(id, session, forget: upload.IsComplete);
            }
        }
        else if (!upload.IsComplete && sessions.CompletionUnderWay(id) is { } completing)
        {
            // That PATCH has every byte and is completing the upload. The old offset would send a client that lost the
            // PATCH's answer back to append to an upload that is about to be complete (403): wait for the completion.
            await completing.WaitAsync(cancel);
            upload = await store.GetAsync(id);
            if (upload is null) return NoSuchUpload(id);
        }
        if (upload.HasExpired(clock.GetUtcNow().ToUnixTimeSeconds())) return Expired(upload);
        response.Headers[Tus.UploadOffsetHeader] = upload.Received.ToString(CultureInfo.InvariantCulture);
        response.Headers[Tus.UploadLengthHeader] = upload.Length.ToString(CultureInfo.InvariantCulture);
        if (upload.Metadata is not null) response.Headers[Tus.UploadMetadataHeader] = upload.Metadata;
        if (!upload.IsComplete) response.Headers[Tus.UploadExpiresHeader] = HttpDate(upload.ExpiresAt);
        return TypedResults.Ok();
    }

    private static async Task<TusAnswer> Patch(string id, HttpRequest request, UploadReceiver receiver)
    {
        if (!MediaStore.IsId(id)) return NoSuchUpload(id);
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals(Tus.OffsetOctetStream, StringComparison.OrdinalIgnoreCase))
            return Error(StatusCodes.Status415UnsupportedMediaType, $"A PATCH carries Content-Type: {Tus.OffsetOctetStream}.");
        if (Number(request.Headers[Tus.UploadOffsetHeader]) is not { } offset)
            return TypedResults.BadRequest(new ApiError($"{Tus.UploadOffsetHeader} is required: where this body begins (the offset HEAD answers)."));
        var (checksum, problem) = UploadChecksum.Parse(request.Headers[Tus.UploadChecksumHeader]);
        if (problem is not null) return TypedResults.BadRequest(new ApiError(problem));
        // A body may be as long as the upload (bounded by Upload-Length, not by the host's 30 MB default for requests).
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var result = await receiver.ReceiveAsync(id, offset, checksum, request.ContentLength, request.Body);
        var response = request.HttpContext.Response;
        if (result.Outcome is PatchOutcome.Stored or PatchOutcome.WriteFailed)
        {
            response.Headers[Tus.UploadOffsetHeader] = result.Offset.ToString(CultureInfo.InvariantCulture);
            if (!result.Upload!.IsComplete) response.Headers[Tus.UploadExpiresHeader] = HttpDate(result.Upload.ExpiresAt);
        }
        return result.Outcome switch
        {
            PatchOutcome.Stored => TypedResults.NoContent(),
            PatchOutcome.NotFound => NoSuchUpload(id),
            PatchOutcome.Expired => Expired(result.Upload!),
            PatchOutcome.Complete => Error(StatusCodes.Status403Forbidden,
                $"Upload {id} is complete ({result.Upload!.Length} bytes); nothing more can be appended."),
            PatchOutcome.Busy => Busy(id),
            PatchOutcome.OffsetMismatch => TypedResults.Conflict(new ApiError(
                $"{Tus.UploadOffsetHeader} is {offset}, but upload {id} stands at {result.Offset}: resume from there (HEAD tells where).")),
            PatchOutcome.TooLong => Error(StatusCodes.Status413PayloadTooLarge,
                $"The body runs past {Tus.UploadLengthHeader} ({result.Detail}); nothing of it was stored."),
            PatchOutcome.ChecksumMismatch => Error(Tus.ChecksumMismatchStatus,
                $"The body does not match its {Tus.UploadChecksumHeader} (or was cut off before it could be checked); it was discarded. " +
                $"Upload {id} stays at offset {result.Offset}."),
            PatchOutcome.FileLost => Error(StatusCodes.Status410Gone,
                $"Upload {id}'s stored bytes are missing from the media store ({result.Detail}); start a new upload."),
            _ => Error(StatusCodes.Status507InsufficientStorage,
                $"The media store could not write ({result.Detail}); upload {id} keeps {result.Offset} bytes: resume from there once there is room."),
        };
    }

    private static async Task<TusAnswer> Terminate(string id, Caller caller, UploadTermination termination)
    {
        if (!MediaStore.IsId(id)) return NoSuchUpload(id);
        var (outcome, job) = await termination.TerminateAsync(id, caller.Name);
        return outcome switch
        {
            TerminationOutcome.Deleted => TypedResults.NoContent(),
            TerminationOutcome.InUse => TypedResults.Conflict(new ApiError(
                $"Job {job} refers to upload {id} (as its input or its result), so it stays. Delete the job first: an upload no job " +
                "refers to is swept UploadExpiryHours after it completed.")),
            TerminationOutcome.Busy => Busy(id),
            _ => NoSuchUpload(id),
        };
    }

    /// <summary>The spec's X-HTTP-Method-Override, for clients whose environment cannot send PATCH or DELETE.</summary>
    private static Task<TusAnswer> Override(string id, HttpRequest request, Caller caller, UploadReceiver receiver, UploadTermination termination) =>
        request.Headers[Tus.MethodOverrideHeader].ToString().ToUpperInvariant() switch
        {
            "PATCH" => Patch(id, request, receiver),
            "DELETE" => Terminate(id, caller, termination),
            _ => Task.FromResult<TusAnswer>(TypedResults.BadRequest(new ApiError(
                $"A POST to an upload needs {Tus.MethodOverrideHeader}: PATCH or DELETE (create uploads with a POST to {Tus.UploadsPath})."))),
        };

    /// <summary>A header holding a whole number of 0 or more (digits only), or null.</summary>
    private static long? Number(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    /// <summary>RFC 9110's date format, which Upload-Expires uses: "Wed, 25 Jun 2014 16:00:00 GMT".</summary>
    private static string HttpDate(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("r", CultureInfo.InvariantCulture);

    private static NotFound<ApiError> NoSuchUpload(string id) =>
        TypedResults.NotFound(new ApiError($"No upload '{id}': it was never made, or it was terminated or swept. Start a new upload."));

    private static JsonHttpResult<ApiError> Expired(Upload upload) =>
        Error(StatusCodes.Status410Gone, $"Upload {upload.Id} expired unfinished at {HttpDate(upload.ExpiresAt)}; start a new upload.");

    private static Conflict<ApiError> Busy(string id) =>
        TypedResults.Conflict(new ApiError($"Another request is writing upload {id} right now; once it ends, ask HEAD for the offset and resume from there."));

    private static JsonHttpResult<ApiError> Error(int status, string message) => TypedResults.Json(new ApiError(message), statusCode: status);
}
