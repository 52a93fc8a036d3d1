using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Api.Uploads;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// A job's media from the host's store: GET (and HEAD) /api/jobs/{id}/input — the upload it encodes —
/// and /api/jobs/{id}/output — the result its worker uploaded. Served by ASP.NET's file result: Range
/// and If-Range (a worker resumes a broken download), the upload's SHA-256 as its ETag (If-None-Match),
/// Last-Modified, Content-Disposition with the file's name, and sendfile, so the host copies no bytes itself.
/// </summary>
public static class MediaDownloads
{
    private const string OctetStream = "application/octet-stream";

    /// <summary>The media type of a result, by the container its job wrote: a folder's (a package's, thumbnails') is a tar of it; a split job's part is only bytes.</summary>
    private static string ResultType(Contracts.Job job) => job.Task?.Kind switch
    {
        Contracts.TaskKinds.Package or Contracts.TaskKinds.Thumbnails => "application/x-tar",
        Contracts.TaskKinds.Chunk or Contracts.TaskKinds.Audio => OctetStream,
        _ => job.Settings.Container switch
        {
            Contracts.Containers.Mkv => "video/x-matroska",
            Contracts.Containers.Webm => "video/webm",
            _ => "video/mp4",
        },
    };

    /// <summary>The name a result downloads as: its output name's file, with .tar for a folder's.</summary>
    private static string? ResultName(Contracts.Job job) => Path.GetFileName(job.OutputName) is { Length: > 0 } name
        ? ResultType(job) == "application/x-tar" ? name + ".tar" : name
        : null;

    public static RouteGroupBuilder MapMediaDownloads(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs").RequireAccess(Access.Read);
        group.MapMethods("/{id}/input", [HttpMethods.Get, HttpMethods.Head], Input)
            .WithSummary("Download the job's input from the host's media store (Range requests welcome)");
        group.MapMethods("/{id}/output", [HttpMethods.Get, HttpMethods.Head], Output)
            .WithSummary("Download the job's result from the host's media store (Range requests welcome); a task's result, by the task's id");
        group.MapGet("/{id}/thumbnails/{name}", Thumbnail)
            .WithSummary("A file of the job's thumbnails: sprite.jpg, storyboard.vtt or poster.jpg (the storyboard's cues point at the sprite by its name)");
        return group;
    }

    /// <summary>
    /// One file of a job's thumbnails, read from the tar its thumbnails task uploaded (a shared-folder job's too, so the
    /// pages can show the storyboard): by its own name ("a.sprite.jpg", as the storyboard's cues say) or its plain one ("sprite.jpg").
    /// </summary>
    private static async Task<IResult> Thumbnail(string id, string name, IJobStore jobs, UploadStore uploads, MediaStore media)
    {
        if (JobAnswers.ParseId(id) is not { } jobId) return JobAnswers.InvalidId();
        if (await jobs.TasksAsync(jobId) is not { } view) return TypedResults.NotFound(new ApiError("Job not found"));
        var thumbnails = view.Outputs.FirstOrDefault(output => output.Kind == Contracts.TaskKinds.Thumbnails && output.Status == Contracts.JobStatus.Finished);
        if (thumbnails is null || await jobs.GetAsync(thumbnails.TaskId) is not { OutputUploadId: { } uploadId })
            return TypedResults.NotFound(new ApiError($"Job {jobId} has no finished thumbnails."));
        var upload = MediaStore.IsId(uploadId) ? await uploads.GetAsync(uploadId) : null;
        var path = upload is { IsComplete: true } ? media.CompletedPath(upload.Id) : null;
        if (path is null || !File.Exists(path)) return TypedResults.NotFound(new ApiError($"Job {jobId}'s thumbnails are no longer in the media store."));
        await using var tar = File.OpenRead(path);
        using var reader = new System.Formats.Tar.TarReader(tar);
        while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
        {
            var file = Path.GetFileName(entry.Name);
            if (entry.DataStream is null || !(file == name || file.EndsWith("." + name, StringComparison.Ordinal))) continue;
            using var bytes = new MemoryStream();
            await entry.DataStream.CopyToAsync(bytes);
            return TypedResults.Bytes(bytes.ToArray(), file.EndsWith(".vtt", StringComparison.Ordinal) ? "text/vtt" : "image/jpeg", file);
        }
        return TypedResults.NotFound(new ApiError($"Job {jobId}'s thumbnails have no file '{name}' ({string.Join(", ", Contracts.ThumbnailsSpec.Files)})."));
    }

    private static async Task<Results<PhysicalFileHttpResult, NotFound<ApiError>, BadRequest<ApiError>>> Input(
        string id, IJobStore jobs, UploadStore uploads, MediaStore media)
    {
        if (JobAnswers.ParseId(id) is not { } jobId) return JobAnswers.InvalidId();
        var job = await jobs.GetAsync(jobId);
        if (job is null) return TypedResults.NotFound(new ApiError("Job not found"));
        if (job.UploadId is null)
            return TypedResults.NotFound(new ApiError($"Job {jobId}'s input is a file in the workers' shared folder, not in the host's media store."));
        return await ServeAsync(job.UploadId, $"Job {jobId}'s input", upload => upload.FileName, uploads, media);
    }

    private static async Task<Results<PhysicalFileHttpResult, NotFound<ApiError>, BadRequest<ApiError>>> Output(
        string id, IJobStore jobs, UploadStore uploads, MediaStore media)
    {
        if (JobAnswers.ParseId(id) is not { } jobId) return JobAnswers.InvalidId();
        var job = await jobs.GetAsync(jobId);
        if (job is null) return TypedResults.NotFound(new ApiError("Job not found"));
        if (job.Result == Contracts.JobResults.KeptOriginal)
            return TypedResults.NotFound(new ApiError($"Job {jobId} has no result file: the encode was not smaller than the input; the original was kept."));
        if (job.OutputUploadId is null)
            return TypedResults.NotFound(new ApiError($"Job {jobId} has no result in the host's media store (it is {job.Status}" +
                (job.UploadId is null ? ", and a shared-folder job's result goes to the workers' output folder)." : ")." )));
        // Named as the job's output_name says, without its folders, typed by the job's container whatever the worker called it.
        return await ServeAsync(job.OutputUploadId, $"Job {jobId}'s result",
            upload => ResultName(job) ?? upload.FileName, uploads, media, ResultType(job));
    }

    private static async Task<Results<PhysicalFileHttpResult, NotFound<ApiError>, BadRequest<ApiError>>> ServeAsync(
        string uploadId, string what, Func<Upload, string> downloadName, UploadStore uploads, MediaStore media, string? contentType = null)
    {
        var upload = MediaStore.IsId(uploadId) ? await uploads.GetAsync(uploadId) : null;
        if (upload is null) return TypedResults.NotFound(new ApiError($"{what} (upload {uploadId}) is no longer in the media store."));
        if (!upload.IsComplete)
            return TypedResults.NotFound(new ApiError($"{what} (upload {uploadId}) is still being uploaded: {upload.Received} of {upload.Length} bytes."));
        var path = media.CompletedPath(upload.Id);
        if (!File.Exists(path)) return TypedResults.NotFound(new ApiError($"{what} (upload {uploadId}) is missing from the media store's folder."));
        return TypedResults.PhysicalFile(path, contentType ?? upload.ContentType ?? OctetStream, downloadName(upload),
            DateTimeOffset.FromUnixTimeSeconds(upload.CompletedAt!.Value), new EntityTagHeaderValue($"\"{upload.Sha256}\""), enableRangeProcessing: true);
    }
}
