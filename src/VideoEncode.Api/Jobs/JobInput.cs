using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The input rules for a job, in one place: a safe relative file_name, a crf from 0 to 51 (string
/// or number in, canonical string out) and one of x264's presets. A bulk request is judged whole:
/// the first bad item rejects it, named by index and field.
/// </summary>
internal static partial class JobInput
{
    public const int MaxJobsPerRequest = 10_000;

    public static readonly IReadOnlyList<string> Presets =
        ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];

    /// <summary>Reads one job object or an array of them; either the whole list or an error.</summary>
    public static (IReadOnlyList<NewJob>? Jobs, ApiError? Error) Parse(JsonElement body)
    {
        switch (body.ValueKind)
        {
            case JsonValueKind.Object:
                var single = ParseOne(body, index: null, out var error);
                return single is null ? (null, error) : ([single], null);
            case JsonValueKind.Array:
                var count = body.GetArrayLength();
                if (count == 0)
                    return (null, new ApiError("The array of jobs is empty; send at least one job."));
                if (count > MaxJobsPerRequest)
                    return (null, new ApiError($"Too many jobs in one request: {count}; the limit is {MaxJobsPerRequest}."));
                var jobs = new List<NewJob>(count);
                var index = 0;
                foreach (var item in body.EnumerateArray())
                {
                    var job = ParseOne(item, index, out error);
                    if (job is null) return (null, error);
                    jobs.Add(job);
                    index++;
                }
                return (jobs, null);
            default:
                return (null, new ApiError("The body must be a job object or an array of job objects."));
        }
    }

    private static NewJob? ParseOne(JsonElement item, int? index, out ApiError? error)
    {
        error = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            error = Fail(index, null, "must be a job object");
            return null;
        }

        var fileName = Field(item, "file_name");
        var crf = Field(item, "crf");
        var preset = Field(item, "preset");

        var name = fileName is { ValueKind: JsonValueKind.String } f ? f.GetString()! : null;
        var fileNameProblem = name is null ? "is required and must be a string" : FileNames.Problem(name);
        if (fileNameProblem is not null)
        {
            error = Fail(index, "file_name", fileNameProblem);
            return null;
        }
        var canonicalCrf = crf is { } c ? CanonicalCrf(c) : null;
        if (canonicalCrf is null)
        {
            error = Fail(index, "crf", "is required and must be a number from 0 to 51 (a string like \"23\" or a number)");
            return null;
        }
        var canonicalPreset = preset is { ValueKind: JsonValueKind.String } p ? CanonicalPreset(p.GetString()!) : null;
        if (canonicalPreset is null)
        {
            error = Fail(index, "preset", $"is required and must be one of: {string.Join(", ", Presets)}");
            return null;
        }
        return new NewJob(name!, canonicalCrf, canonicalPreset);
    }

    /// <summary>Reads a failure report: a non-empty error message, and an optional log tail kept to its last 4 KB.</summary>
    public static (FailureReport? Report, ApiError? Error) ParseFailure(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            return (null, new ApiError("The body must be an object like {\"error\": \"what went wrong\"}."));
        var error = Field(body, "error") is { ValueKind: JsonValueKind.String } e ? e.GetString()! : null;
        if (string.IsNullOrWhiteSpace(error) || error.Length > FailureReport.MaxErrorChars)
            return (null, new ApiError($"error is required: a message of 1 to {FailureReport.MaxErrorChars} characters.") { Field = "error" });
        var logTail = Field(body, "log_tail");
        if (logTail is { ValueKind: not JsonValueKind.String })
            return (null, new ApiError("log_tail must be a string when present.") { Field = "log_tail" });
        var tail = logTail?.GetString();
        if (tail?.Length > FailureReport.MaxLogTailChars)
            tail = tail[^FailureReport.MaxLogTailChars..];
        return (new FailureReport(error, tail), null);
    }

    private static JsonElement? Field(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>"23", 23, "23.50" and 23.5 become "23" and "23.5"; anything else outside 0–51 is refused.</summary>
    private static string? CanonicalCrf(JsonElement crf)
    {
        decimal value;
        if (crf.ValueKind == JsonValueKind.Number)
        {
            if (!crf.TryGetDecimal(out value)) return null;
        }
        else if (crf.ValueKind == JsonValueKind.String)
        {
            var text = crf.GetString()!;
            if (!PlainDecimal().IsMatch(text)) return null;
            value = decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        }
        else return null;
        return value is >= 0 and <= 51 ? value.ToString("0.##########", CultureInfo.InvariantCulture) : null;
    }

    private static string? CanonicalPreset(string preset)
    {
        var lower = preset.ToLowerInvariant();
        return Presets.Contains(lower) ? lower : null;
    }

    private static ApiError Fail(int? index, string? field, string problem)
    {
        var subject = (index, field) switch
        {
            (null, null) => "The job",
            (null, _) => field,
            (_, null) => $"Job at index {index}",
            _ => $"Job at index {index}: {field}",
        };
        return new ApiError($"{subject} {problem}.") { Index = index, Field = field };
    }

    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,10})?$")]
    private static partial Regex PlainDecimal();
}
