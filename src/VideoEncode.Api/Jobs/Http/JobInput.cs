using System.Text.Json;
using VideoEncode.Api.Http;
using VideoEncode.Api.Profiles;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// The input rules for a job, in one place: a safe relative file_name (or an upload), the encode
/// settings (<see cref="EncodeInput"/>: crf and preset as the original service had them, or a
/// profile and any settings over it), and the queue's own fields. A bulk request is judged whole:
/// the first bad item rejects it, named by index and field.
/// </summary>
internal static class JobInput
{
    public const int MaxJobsPerRequest = 10_000;
    public const int MaxAttemptsLimit = 100;
    public const int PriorityLimit = 1_000_000;
    public const int MaxWorkerNameLength = 200;
    public const int MaxOutputs = 8;

    /// <summary>The fields of a job that are not its encode settings: an output of "outputs" may not give them.</summary>
    private static readonly string[] JobOnlyFields =
        ["file_name", "upload_id", "priority", "max_attempts", "source", "outputs", "package", "thumbnails", "split_seconds"];

    /// <summary>
    /// The profiles a request names (to be looked up before <see cref="Parse"/>), without judging
    /// anything else; a "profile" that is not a name is left for Parse to refuse.
    /// </summary>
    public static IReadOnlyCollection<string> ProfileNames(JsonElement body)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(JsonElement item)
        {
            if (item.ValueKind == JsonValueKind.Object && Field(item, "profile") is { ValueKind: JsonValueKind.String } name && ProfileRules.IsName(name.GetString()!))
                names.Add(name.GetString()!);
        }
        foreach (var item in body.ValueKind == JsonValueKind.Array ? body.EnumerateArray() : Enumerable.Repeat(body, 1))
        {
            Add(item);
            if (item.ValueKind == JsonValueKind.Object && Field(item, "outputs") is { ValueKind: JsonValueKind.Array } outputs)
                foreach (var output in outputs.EnumerateArray()) Add(output);
        }
        return names;
    }

    /// <summary>
    /// Reads one job object or an array of them; either the whole list or an error. <paramref name="profiles"/>
    /// holds every profile <see cref="ProfileNames"/> found that exists.
    /// </summary>
    public static (IReadOnlyList<NewJob>? Jobs, ApiError? Error) Parse(JsonElement body, IReadOnlyDictionary<string, EncodeSettings> profiles)
    {
        switch (body.ValueKind)
        {
            case JsonValueKind.Object:
                var single = ParseOne(body, index: null, profiles, out var error);
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
                    var job = ParseOne(item, index, profiles, out error);
                    if (job is null) return (null, error);
                    jobs.Add(job);
                    index++;
                }
                if (WatchedFiles.FirstRepeat(jobs) is var (repeat, first))
                    return (null, Fail(repeat, "source", $"names the same file as the job at index {first}"));
                return (jobs, null);
            default:
                return (null, new ApiError("The body must be a job object or an array of job objects."));
        }
    }

    private static NewJob? ParseOne(JsonElement item, int? index, IReadOnlyDictionary<string, EncodeSettings> profiles, out ApiError? error)
    {
        error = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            error = Fail(index, null, "must be a job object");
            return null;
        }

        var fileName = Field(item, "file_name");
        var uploadId = Field(item, "upload_id");

        string? name = null, upload = null;
        if (uploadId is not null)
        {
            upload = uploadId is { ValueKind: JsonValueKind.String } u && IsUploadId(u.GetString()!) ? u.GetString() : null;
            if (upload is null)
            {
                error = Fail(index, "upload_id", "must be the id of an upload: the last segment of the Location that POST /api/uploads answered");
                return null;
            }
            if (fileName is not null)
            {
                error = Fail(index, "file_name", "must be left out when upload_id is given: the job's file_name is the uploaded file's name");
                return null;
            }
        }
        else
        {
            name = fileName is { ValueKind: JsonValueKind.String } f ? f.GetString()! : null;
            var fileNameProblem = name is null ? "is required (or upload_id, for a file uploaded to the host) and must be a string" : FileNames.Problem(name);
            if (fileNameProblem is not null)
            {
                error = Fail(index, "file_name", fileNameProblem);
                return null;
            }
        }
        EncodeSettings? profile = null;
        string? profileName = null;
        if (Field(item, "profile") is { } named)
        {
            profileName = named.ValueKind == JsonValueKind.String ? named.GetString() : null;
            if (profileName is null || !profiles.TryGetValue(profileName, out profile))
            {
                error = Fail(index, "profile", profileName is not null && ProfileRules.IsName(profileName)
                    ? $"'{profileName}' is not a profile (GET /api/profiles lists them)"
                    : ProfileRules.NameRule);
                return null;
            }
        }
        IReadOnlyList<NewOutput>? outputs = null;
        if (Field(item, "outputs") is { } asked)
        {
            outputs = ParseOutputs(item, asked, index, profiles, out error);
            if (outputs is null) return null;
        }
        var (fields, fieldProblem) = EncodeInput.Read(item);
        var (settings, settingsProblem) = fields is null ? (null, fieldProblem)
            : outputs is not null && (fields.Package ?? profile?.Package) is null
                // Several outputs and no ladder: the job's own settings are its first output's, with its thumbnails.
                ? (outputs[0].Settings with { Thumbnails = fields.Thumbnails ?? profile?.Thumbnails, SplitSeconds = fields.SplitSeconds ?? profile?.SplitSeconds }, null)
                : EncodeInput.Resolve(profile, fields, requirePreset: profile is null);
        if (settings is null)
        {
            error = Fail(index, settingsProblem!.Field, settingsProblem.Message);
            return null;
        }
        if (outputs is not null && settings.SplitSeconds is not null)
        {
            error = Fail(index, "split_seconds", "cannot be used with outputs: a split encode has one output");
            return null;
        }
        if (!TryOptionalInt(item, "priority", -PriorityLimit, PriorityLimit, 0, out var priority))
        {
            error = Fail(index, "priority", $"must be a whole number from {-PriorityLimit} to {PriorityLimit}");
            return null;
        }
        if (!TryOptionalInt(item, "max_attempts", 1, MaxAttemptsLimit, JobRules.DefaultMaxAttempts, out var maxAttempts))
        {
            error = Fail(index, "max_attempts", $"must be a whole number from 1 to {MaxAttemptsLimit}");
            return null;
        }
        string? outputName = null;
        if (Field(item, "output_name") is { } output)
        {
            outputName = output.ValueKind == JsonValueKind.String ? output.GetString()!.Replace('\\', '/') : null;
            var outputProblem = outputName is null ? "must be a string"
                : settings.Package is not null ? FileNames.Problem(outputName)   // the package's folder
                : outputs is not null ? "names the package's folder; name each output in outputs[].output_name"
                : FileNames.OutputProblem(outputName, settings.Container);
            if (outputProblem is not null)
            {
                error = Fail(index, "output_name", outputProblem);
                return null;
            }
        }
        var overwrite = Field(item, "overwrite");
        if (overwrite is { ValueKind: not (JsonValueKind.True or JsonValueKind.False) })
        {
            error = Fail(index, "overwrite", "must be true or false");
            return null;
        }
        WatchedFile? source = null;
        if (Field(item, "source") is { } found)
        {
            source = WatchedFiles.Parse(found, out var sourceProblem);
            if (source is null)
            {
                error = Fail(index, "source", sourceProblem!);
                return null;
            }
        }
        // A store job's file_name is filled in from its upload by the store, in the enqueue's transaction.
        return new NewJob(name ?? "", settings.Crf ?? "", settings.Preset ?? "", priority, maxAttempts, outputName, overwrite?.GetBoolean() ?? false, upload)
        {
            Settings = settings,
            Profile = profileName,
            Source = source,
            Outputs = outputs,
        };
    }

    /// <summary>
    /// A job's "outputs": 1 to <see cref="MaxOutputs"/> objects, each the job's encode fields with its own over them
    /// (a profile of its own replaces the job's), its output_name checked against its own container, overwrite as the job's unless it says.
    /// </summary>
    private static IReadOnlyList<NewOutput>? ParseOutputs(JsonElement job, JsonElement asked, int? index,
        IReadOnlyDictionary<string, EncodeSettings> profiles, out ApiError? error)
    {
        error = null;
        if (asked.ValueKind != JsonValueKind.Array || asked.GetArrayLength() is 0 or > MaxOutputs)
        {
            error = Fail(index, "outputs", $"must be a list of 1 to {MaxOutputs} output objects, each with its settings and output_name");
            return null;
        }
        var outputs = new List<NewOutput>();
        var at = 0;
        foreach (var output in asked.EnumerateArray())
        {
            var field = $"outputs[{at}]";
            if (output.ValueKind != JsonValueKind.Object)
            {
                error = Fail(index, field, "must be an output object");
                return null;
            }
            if (JobOnlyFields.FirstOrDefault(name => output.TryGetProperty(name, out _)) is { } misplaced)
            {
                error = Fail(index, $"{field}.{misplaced}", "belongs to the job, not to one of its outputs");
                return null;
            }
            var merged = new System.Text.Json.Nodes.JsonObject();
            foreach (var property in job.EnumerateObject())
                if (!JobOnlyFields.Contains(property.Name) && property.Name is not ("output_name" or "overwrite" or "profile"))
                    merged[property.Name] = System.Text.Json.Nodes.JsonNode.Parse(property.Value.GetRawText());
            foreach (var property in output.EnumerateObject())
                merged[property.Name] = System.Text.Json.Nodes.JsonNode.Parse(property.Value.GetRawText());
            var own = System.Text.Json.JsonSerializer.SerializeToElement(merged);
            var profileName = Field(own, "profile")?.ValueKind == JsonValueKind.String ? Field(own, "profile")!.Value.GetString()
                : Field(job, "profile")?.ValueKind == JsonValueKind.String ? Field(job, "profile")!.Value.GetString() : null;
            EncodeSettings? profile = null;
            if (profileName is not null && !profiles.TryGetValue(profileName, out profile))
            {
                error = Fail(index, $"{field}.profile", ProfileRules.IsName(profileName) ? $"'{profileName}' is not a profile (GET /api/profiles lists them)" : ProfileRules.NameRule);
                return null;
            }
            var (fields, problem) = EncodeInput.Read(own);
            var (settings, settingsProblem) = fields is null ? (null, problem) : EncodeInput.Resolve(profile, fields, requirePreset: profile is null);
            if (settings is null)
            {
                error = Fail(index, $"{field}.{settingsProblem!.Field}", settingsProblem.Message);
                return null;
            }
            // What makes a job of tasks belongs to the job: an output is one encode.
            settings = settings with { Package = null, Thumbnails = null, SplitSeconds = null };
            string? name = null;
            if (Field(output, "output_name") is { } named)
            {
                name = named.ValueKind == JsonValueKind.String ? named.GetString()!.Replace('\\', '/') : null;
                var nameProblem = name is null ? "must be a string" : FileNames.OutputProblem(name, settings.Container);
                if (nameProblem is not null)
                {
                    error = Fail(index, $"{field}.output_name", nameProblem);
                    return null;
                }
            }
            var overwrite = Field(output, "overwrite") ?? Field(job, "overwrite");
            if (overwrite is { ValueKind: not (JsonValueKind.True or JsonValueKind.False) })
            {
                error = Fail(index, $"{field}.overwrite", "must be true or false");
                return null;
            }
            outputs.Add(new NewOutput(settings, name, overwrite?.GetBoolean() ?? false, profileName));
            at++;
        }
        return outputs;
    }

    private static bool TryOptionalInt(JsonElement item, string name, int min, int max, int absent, out int value)
    {
        value = absent;
        if (Field(item, name) is not { } field) return true;
        return field.ValueKind == JsonValueKind.Number && field.TryGetInt32(out value) && value >= min && value <= max;
    }

    /// <summary>Reads a failure report: the claim's token, a non-empty error message, and an optional log tail kept to its last 4 KB.</summary>
    public static (FailureReport? Report, ApiError? Error) ParseFailure(JsonElement? element)
    {
        var (token, tokenError) = RequiredClaimToken(element);
        if (tokenError is not null) return (null, tokenError);
        var body = element!.Value;
        var error = Field(body, "error") is { ValueKind: JsonValueKind.String } e ? e.GetString()! : null;
        if (string.IsNullOrWhiteSpace(error) || error.Length > FailureReport.MaxErrorChars)
            return (null, new ApiError($"error is required: a message of 1 to {FailureReport.MaxErrorChars} characters.") { Field = "error" });
        var logTail = Field(body, "log_tail");
        if (logTail is { ValueKind: not JsonValueKind.String })
            return (null, new ApiError("log_tail must be a string when present.") { Field = "log_tail" });
        var tail = logTail?.GetString();
        if (tail?.Length > FailureReport.MaxLogTailChars)
            tail = tail[^FailureReport.MaxLogTailChars..];
        var retryable = Field(body, "retryable");
        if (retryable is { ValueKind: not (JsonValueKind.True or JsonValueKind.False) })
            return (null, new ApiError("retryable must be true or false when present.") { Field = "retryable" });
        var (commandLine, commandLineError) = OptionalCommandLine(body);
        if (commandLineError is not null) return (null, commandLineError);
        var (hdr, hdrError) = OptionalHdr(body);
        if (hdrError is not null) return (null, hdrError);
        return (new FailureReport(error, tail, token, retryable?.GetBoolean() ?? false, commandLine, hdr), null);
    }

    /// <summary>
    /// The claim token of a cancel: none for a person's cancel, the claim's for a worker's
    /// acknowledgement. A body without one is a person's cancel.
    /// </summary>
    public static (string? Token, ApiError? Error) OptionalClaimToken(JsonElement? body)
    {
        if (body is not { } element) return (null, null);
        if (element.ValueKind != JsonValueKind.Object)
            return (null, new ApiError("The body must be an object like {\"claim_token\": \"…\"}."));
        return Field(element, "claim_token") switch
        {
            null => (null, null),
            { ValueKind: JsonValueKind.String } token when token.GetString()!.Length is > 0 and <= 200 => (token.GetString(), null),
            _ => (null, new ApiError("claim_token must be the token from the claim answer.") { Field = "claim_token" }),
        };
    }

    /// <summary>
    /// A fenced step (heartbeat, fail, release, and a finish with a body) must quote its claim. Only
    /// the original service's bodiless finish goes unfenced; "{}" or a null token is a mistake, not that.
    /// </summary>
    public static (string? Token, ApiError? Error) RequiredClaimToken(JsonElement? body)
    {
        var (token, error) = OptionalClaimToken(body);
        return error is null && token is null
            ? (null, new ApiError("claim_token is required: the token from the claim answer.") { Field = "claim_token" })
            : (token, error);
    }

    /// <summary>An upload's id as the host makes them: 32 lower-case hex digits.</summary>
    public static bool IsUploadId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// A finish's body, when there is one: the claim token, and optionally output_upload_id (required for a
    /// store job; the store checks that), the input's and output's sizes in bytes, the command line that ran,
    /// and what the quality gate found (<see cref="FinishGateInput"/>).
    /// </summary>
    public static (FinishReport? Report, ApiError? Error) ParseFinish(JsonElement body)
    {
        var (token, tokenError) = RequiredClaimToken(body);
        if (tokenError is not null) return (null, tokenError);
        string? upload = null;
        if (Field(body, "output_upload_id") is { } output)
        {
            upload = output.ValueKind == JsonValueKind.String && IsUploadId(output.GetString()!) ? output.GetString() : null;
            if (upload is null)
                return (null, new ApiError("output_upload_id must be the id of the upload holding the result.") { Field = "output_upload_id" });
        }
        var sizes = new long?[2];
        foreach (var (field, slot) in new[] { ("input_bytes", 0), ("output_bytes", 1) })
        {
            if (Field(body, field) is not { } size) continue;
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var bytes) || bytes < 0)
                return (null, new ApiError($"{field} must be a whole number of bytes, 0 or more.") { Field = field });
            sizes[slot] = bytes;
        }
        var (commandLine, commandLineError) = OptionalCommandLine(body);
        if (commandLineError is not null) return (null, commandLineError);
        var (hdr, hdrError) = OptionalHdr(body);
        if (hdrError is not null) return (null, hdrError);
        double? inputSeconds = null;
        if (Field(body, "input_seconds") is { } duration)
        {
            if (duration.ValueKind != JsonValueKind.Number || !duration.TryGetDouble(out var seconds) || seconds is < 0 or > FinishReport.MaxInputSeconds)
                return (null, new ApiError($"input_seconds must be the input's duration, a number of seconds from 0 to {FinishReport.MaxInputSeconds}.") { Field = "input_seconds" });
            inputSeconds = seconds;
        }
        return FinishGateInput.Read(body, new FinishReport(token!, upload, sizes[0], sizes[1], CommandLine: commandLine, Hdr: hdr, InputSeconds: inputSeconds));
    }

    /// <summary>The input's dynamic range a finish or failure reports (<see cref="HdrKinds"/>), when it does.</summary>
    private static (string? Hdr, ApiError? Error) OptionalHdr(JsonElement body) => Field(body, "hdr") switch
    {
        null => (null, null),
        { ValueKind: JsonValueKind.String } hdr when HdrKinds.All.Contains(hdr.GetString()) => (hdr.GetString(), null),
        _ => (null, new ApiError($"hdr must be one of: {string.Join(", ", HdrKinds.All)}.") { Field = "hdr" }),
    };

    /// <summary>The ffmpeg command line a finish or failure reports, when it does: kept to its first <see cref="FinishReport.MaxCommandLineChars"/>.</summary>
    private static (string? CommandLine, ApiError? Error) OptionalCommandLine(JsonElement body) => Field(body, "command_line") switch
    {
        null => (null, null),
        { ValueKind: JsonValueKind.String } line => (Cut(line.GetString()!), null),
        _ => (null, new ApiError("command_line must be a string when present.") { Field = "command_line" }),
    };

    private static string Cut(string commandLine) =>
        commandLine.Length <= FinishReport.MaxCommandLineChars ? commandLine : commandLine[..FinishReport.MaxCommandLineChars];

    /// <summary>A heartbeat's report: progress 0–100, speed ≥ 0 and seconds left ≥ 0, and the phase, each optional.</summary>
    public static (Heartbeat? Report, ApiError? Error) ParseHeartbeat(JsonElement body, string token)
    {
        string? phase = null;
        if (Field(body, "phase") is { } reported)
        {
            phase = reported.ValueKind == JsonValueKind.String && JobPhase.All.Contains(reported.GetString()) ? reported.GetString() : null;
            if (phase is null)
                return (null, new ApiError($"phase must be one of: {string.Join(", ", JobPhase.All)}.") { Field = "phase" });
        }
        double? progress = null, speed = null, eta = null;
        foreach (var (name, max) in new[] { ("progress", Heartbeat.MaxProgress), ("speed", Heartbeat.MaxSpeed), ("eta_seconds", Heartbeat.MaxEtaSeconds) })
        {
            if (Field(body, name) is not { } field) continue;
            if (field.ValueKind != JsonValueKind.Number || !field.TryGetDouble(out var value) || value < 0 || value > max)
                return (null, new ApiError($"{name} must be a number from 0 to {max}.") { Field = name });
            if (name == "progress") progress = value;
            else if (name == "speed") speed = value;
            else eta = value;
        }
        return (new Heartbeat(token, progress, speed, eta is null ? null : (long)Math.Round(eta.Value), phase), null);
    }

    /// <summary>A worker's name as a claim gives it (and the drain routes take it): at most <see cref="MaxWorkerNameLength"/> characters, no control characters.</summary>
    public static bool IsWorkerName(string name) =>
        name.Length <= MaxWorkerNameLength && !name.Any(char.IsControl);

    /// <summary>A claim's optional body: {"worker": "name", "wait": seconds, "media": "shared|store|any", "max_input_bytes": n, "encoders": ["libx264", "copy", …]}.</summary>
    public static (ClaimRequest? Request, ApiError? Error) ParseClaim(JsonElement? body)
    {
        if (body is not { } element) return (new ClaimRequest(), null);
        if (element.ValueKind != JsonValueKind.Object)
            return (null, new ApiError("The body must be an object like {\"worker\": \"name\", \"wait\": 30}."));
        string? worker = null;
        if (Field(element, "worker") is { } name)
        {
            worker = name.ValueKind == JsonValueKind.String ? name.GetString() : null;
            if (worker is null || !IsWorkerName(worker))
                return (null, new ApiError($"worker must be a name of at most {MaxWorkerNameLength} characters.") { Field = "worker" });
        }
        double? wait = null;
        if (Field(element, "wait") is { } seconds)
        {
            if (seconds.ValueKind != JsonValueKind.Number || !seconds.TryGetDouble(out var value) || value is < 0 or > ClaimRequest.MaxWaitSeconds)
                return (null, new ApiError($"wait must be a number of seconds from 0 to {ClaimRequest.MaxWaitSeconds}.") { Field = "wait" });
            wait = value;
        }
        string? media = null;
        if (Field(element, "media") is { } kind)
        {
            media = kind.ValueKind == JsonValueKind.String && MediaKinds.All.Contains(kind.GetString()) ? kind.GetString() : null;
            if (media is null)
                return (null, new ApiError($"media must be one of: {string.Join(", ", MediaKinds.All)}.") { Field = "media" });
        }
        long? maxInputBytes = null;
        if (Field(element, "max_input_bytes") is { } max)
        {
            if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt64(out var bytes) || bytes < 0)
                return (null, new ApiError("max_input_bytes must be a whole number of bytes, 0 or more.") { Field = "max_input_bytes" });
            maxInputBytes = bytes;
        }
        IReadOnlyList<string>? encoders = null;
        if (Field(element, "encoders") is { } listed)
        {
            encoders = ClaimEncoders(listed);
            if (encoders is null)
                return (null, new ApiError($"encoders must be a list of 1 to {ClaimRequest.MaxEncoders} encoder names (see GET /api/encode-options) " +
                    $"or \"{ClaimRequest.CopyCapability}\".") { Field = "encoders" });
        }
        return (new ClaimRequest(worker, wait, media, maxInputBytes, encoders), null);
    }

    /// <summary>A claim's encoders, each known, without repeats; null when the list is not one.</summary>
    private static IReadOnlyList<string>? ClaimEncoders(JsonElement listed)
    {
        if (listed.ValueKind != JsonValueKind.Array || listed.GetArrayLength() is 0 or > ClaimRequest.MaxEncoders) return null;
        var names = new List<string>();
        foreach (var item in listed.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { } name || !ClaimRequest.IsCapability(name)) return null;
            if (!names.Contains(name)) names.Add(name);
        }
        return names;
    }

    private static JsonElement? Field(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

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

}
