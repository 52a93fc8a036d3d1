using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using VideoEncode.Contracts;

namespace VideoEncode.Worker.Watching;

/// <summary>What the host said to one watched file's enqueue.</summary>
public abstract record EnqueueAnswer
{
    /// <summary>A new job.</summary>
    public sealed record Created(long JobId) : EnqueueAnswer;

    /// <summary>The file (this size, this mtime) was enqueued before, by this watcher or another.</summary>
    public sealed record EnqueuedBefore(long JobId) : EnqueueAnswer;

    /// <summary>The host refused this file (a 4xx): asking again would not help until the file changes.</summary>
    public sealed record Refused(string Why) : EnqueueAnswer;

    /// <summary>
    /// The host refused the watcher itself — a wrong key, a key that may not submit jobs, the watcher's own
    /// settings (a profile that does not exist, a bad crf or preset), or a URL with no job API: no file would do better.
    /// </summary>
    public sealed record WatcherRefused(string Why) : EnqueueAnswer;

    /// <summary>No answer, or a passing failure (5xx, 408, 429): try again later.</summary>
    public sealed record Unanswered(string Why) : EnqueueAnswer;
}

/// <summary>What a watcher asks of every file: a profile, or crf and preset, or both (its fields override the profile's).</summary>
public sealed record WatchedJobSettings(string? Profile, string? Crf, string? Preset);

/// <summary>
/// Enqueues one watched file: POST /api/jobs with its file_name (relative to the workers' input
/// root), the watcher's settings, and the file as its "source", which the host remembers in the
/// job's own transaction. One attempt; the watcher decides when to try again.
/// </summary>
public sealed class WatchedJobs(HttpClient http, WatchedJobSettings settings)
{
    public async Task<EnqueueAnswer> EnqueueAsync(string fileName, WatchedFile source, CancellationToken cancel)
    {
        try
        {
            using var response = await http.PostAsJsonAsync("/api/jobs",
                new Body(fileName, settings.Profile, settings.Crf, settings.Preset, source), WireJson.Options, cancel);
            if (response.StatusCode == HttpStatusCode.Created)
                return new EnqueueAnswer.Created((await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options, cancel))![0].Id);
            if (Retries.IsTransient(response.StatusCode))
                return new EnqueueAnswer.Unanswered($"the host answered {(int)response.StatusCode}");
            var body = await response.Content.ReadAsStringAsync(cancel);
            if (response.StatusCode == HttpStatusCode.Conflict && EarlierJob(body) is { } jobId)
                return new EnqueueAnswer.EnqueuedBefore(jobId);
            var message = await QueueClient.ErrorMessageAsync(response);
            return response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound
                   || WatcherSettingsFields.Contains(Field(body))
                ? new EnqueueAnswer.WatcherRefused($"the host answered {(int)response.StatusCode}: {message}")
                : new EnqueueAnswer.Refused($"the host answered {(int)response.StatusCode}: {message}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            return new EnqueueAnswer.Unanswered(e.Message);
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return new EnqueueAnswer.Unanswered($"no answer within {http.Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The fields of a 400 that are the watcher's, not the file's: every file would be refused alike.</summary>
    private static readonly string?[] WatcherSettingsFields = ["profile", "crf", "preset"];

    /// <summary>The job_id of a 409 that says the source was enqueued before (other 409s name no job).</summary>
    private static long? EarlierJob(string body) =>
        Member(body, "job_id") is { } id && id.TryGetInt64(out var jobId) ? jobId : null;

    /// <summary>The field an error answer names, if any.</summary>
    private static string? Field(string body) =>
        Member(body, "field") is { ValueKind: JsonValueKind.String } field ? field.GetString() : null;

    private static JsonElement? Member(string body, string name)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var value) ? value.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Body(
        string FileName,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Profile,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Crf,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Preset,
        WatchedFile Source);
}
