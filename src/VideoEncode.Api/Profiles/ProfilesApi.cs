using Microsoft.AspNetCore.Http.HttpResults;
using VideoEncode.Api.Auth;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Profiles;

/// <summary>
/// /api/profiles: named encode settings a job can start from ("profile": name), validated on save by
/// the same rules as a job's settings; the built-in ones are read-only. /api/encode-options: every
/// choice those settings have, for the pages and for scripts.
/// </summary>
public static class ProfilesApi
{
    private const long MaxBodyBytes = 8192;

    public static RouteGroupBuilder MapProfiles(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/encode-options", () => TypedResults.Ok(EncodeOptions.Current)).WithTags("Profiles").RequireAccess(Access.Read)
            .WithSummary("What encode settings may say: codecs, encoders with their presets, quality scale and bit depths, and what each container holds");
        var group = routes.MapGroup("/api/profiles").WithTags("Profiles").RequireAccess(Access.Read);
        group.MapGet("/", async (ProfileStore profiles) => TypedResults.Ok(await profiles.ListAsync()))
            .WithSummary("Every profile: the built-in ones first, then the saved ones by name");
        group.MapGet("/{name}", Get).WithSummary("One profile");
        group.MapPut("/{name}", Save).RequireAccess(Access.Submit)
            .WithMetadata(new RequestBodyDocumentation(typeof(EncodeSettings)))
            .WithSummary("Save a profile: encode settings, checked as a job's are (fields left out take their defaults)")
            .WithDescription("Answers 201 for a new profile, 200 for a changed one; 409 for a built-in name. Jobs already made keep their own copy.");
        group.MapDelete("/{name}", Delete).RequireAccess(Access.Submit).WithSummary("Delete a saved profile (jobs made from it keep their settings)");
        return group;
    }

    private static async Task<Results<Ok<Profile>, NotFound<ApiError>, BadRequest<ApiError>>> Get(string name, ProfileStore profiles)
    {
        if (!ProfileRules.IsName(name)) return TypedResults.BadRequest(new ApiError($"The name {ProfileRules.NameRule}."));
        return await profiles.GetAsync(name) is { } profile ? TypedResults.Ok(profile) : NotFound(name);
    }

    private static async Task<Results<Ok<Profile>, Created<Profile>, BadRequest<ApiError>, Conflict<ApiError>, JsonHttpResult<ApiError>>> Save(
        string name, HttpRequest request, Caller caller, ProfileStore profiles)
    {
        if (!ProfileRules.IsName(name)) return TypedResults.BadRequest(new ApiError($"The name {ProfileRules.NameRule}."));
        if (BuiltInProfiles.All.ContainsKey(name)) return BuiltIn(name);
        var (document, bodyError) = await JsonBody.ReadAsync(request, MaxBodyBytes);
        if (bodyError is not null) return bodyError;
        using (document)
        {
            var body = document!.RootElement;
            if (body.ValueKind != System.Text.Json.JsonValueKind.Object)
                return TypedResults.BadRequest(new ApiError("The body must be an object of encode settings, like {\"video_codec\": \"hevc\", \"crf\": 26}."));
            var (fields, readProblem) = EncodeInput.Read(body);
            var (settings, problem) = fields is null ? (null, readProblem) : EncodeInput.Resolve(null, fields, requirePreset: false);
            if (settings is null) return TypedResults.BadRequest(new ApiError($"{problem!.Field} {problem.Message}.") { Field = problem.Field });
            var (saved, created) = await profiles.SaveAsync(name, settings, caller.Name);
            return created ? TypedResults.Created($"/api/profiles/{name}", saved) : TypedResults.Ok(saved);
        }
    }

    private static async Task<Results<NoContent, NotFound<ApiError>, BadRequest<ApiError>, Conflict<ApiError>>> Delete(
        string name, Caller caller, ProfileStore profiles)
    {
        if (!ProfileRules.IsName(name)) return TypedResults.BadRequest(new ApiError($"The name {ProfileRules.NameRule}."));
        if (BuiltInProfiles.All.ContainsKey(name)) return BuiltIn(name);
        return await profiles.DeleteAsync(name, caller.Name) ? TypedResults.NoContent() : NotFound(name);
    }

    private static NotFound<ApiError> NotFound(string name) => TypedResults.NotFound(new ApiError($"There is no profile named '{name}'."));

    private static Conflict<ApiError> BuiltIn(string name) =>
        TypedResults.Conflict(new ApiError($"'{name}' is a built-in profile and cannot be changed or deleted; save your version under another name."));
}
