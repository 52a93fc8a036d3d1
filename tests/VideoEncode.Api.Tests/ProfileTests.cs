using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VideoEncode.Api.Profiles;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>/api/profiles: named settings, validated on save, that a job copies at enqueue; /api/encode-options.</summary>
public sealed class ProfileTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public ProfileTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    private Task<HttpResponseMessage> PutAsync(string name, object settings) => client.PutAsJsonAsync($"/api/profiles/{name}", settings);

    [Fact]
    public async Task AProfileIsSavedCheckedChangedAndDeleted()
    {
        var created = await PutAsync("small", new { video_codec = "hevc", crf = 28, container = "mkv" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var profile = (await created.Content.ReadFromJsonAsync<Profile>(WireJson.Options))!;
        Assert.Equal(new EncodeSettings { VideoCodec = "hevc", Encoder = "libx265", Crf = "28", Preset = "medium", Container = "mkv", Subtitles = "copy" },
            profile.Settings);
        Assert.False(profile.Builtin);

        var changed = await PutAsync("small", new { video_codec = "hevc", crf = 30 });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(("30", "mp4"), ((await client.GetFromJsonAsync<Profile>("/api/profiles/small", WireJson.Options))!.Settings.Crf,
            (await client.GetFromJsonAsync<Profile>("/api/profiles/small", WireJson.Options))!.Settings.Container));

        var refused = await PutAsync("small", new { video_codec = "h264", crf = 23, container = "webm" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("container", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal("30", (await client.GetFromJsonAsync<Profile>("/api/profiles/small", WireJson.Options))!.Settings.Crf);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/profiles/small")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/profiles/small")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/profiles/small")).StatusCode);
    }

    [Fact]
    public async Task BuiltInProfilesAreListedFirstAndCannotBeChanged()
    {
        await PutAsync("mine", new { crf = 20 });

        var profiles = (await client.GetFromJsonAsync<Profile[]>("/api/profiles", WireJson.Options))!;

        Assert.Equal([.. BuiltInProfiles.All.Keys, "mine"], profiles.Select(profile => profile.Name));
        Assert.All(profiles[..^1], profile => Assert.True(profile.Builtin));
        Assert.Equal(HttpStatusCode.Conflict, (await PutAsync("h264-compatible", new { crf = 20 })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync("/api/profiles/h264-compatible")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync("not%20a%20name", new { crf = 20 })).StatusCode);
    }

    [Fact]
    public void EveryBuiltInProfileIsValidAsItStands()
    {
        foreach (var (name, settings) in BuiltInProfiles.All)
        {
            var body = JsonSerializer.SerializeToElement(settings, WireJson.Options);
            var (fields, readProblem) = Profiles.EncodeInput.Read(body);
            Assert.True(fields is not null, $"{name}: {readProblem}");
            var (resolved, problem) = Profiles.EncodeInput.Resolve(null, fields!, requirePreset: false);
            Assert.True(problem is null, $"{name}: {problem}");
            Assert.Equal(settings, resolved);
        }
    }

    [Fact]
    public async Task AJobCopiesItsProfileAndItsOwnFieldsWinAndALaterEditChangesNothingQueued()
    {
        await PutAsync("archive", new { video_codec = "av1", crf = 32, preset = 6, container = "mkv", audio = "opus", min_ssim = 0.95 });

        var jobs = await client.EnqueueAsync(
            new { file_name = "a.mkv", profile = "archive" },
            new { file_name = "b.mkv", profile = "archive", crf = 28, skip_if_larger = true },
            new { file_name = "c.mkv", profile = "archive", encoder = "libaom-av1" },
            new { file_name = "d.mkv", profile = "hevc-library" });
        await PutAsync("archive", new { crf = 20, preset = "slow" });

        var stored = await Task.WhenAll(jobs.Select(job => client.GetJobAsync(job.Id)));
        Assert.All(stored[..3], job => Assert.Equal("archive", job.Profile));
        Assert.Equal(("libsvtav1", "32", "6", 0.95, "a.mkv"), (stored[0].Settings!.Encoder, stored[0].Settings!.Crf, stored[0].Settings!.Preset,
            stored[0].Settings!.MinSsim, stored[0].OutputName));
        Assert.Equal(("28", true), (stored[1].Settings!.Crf, stored[1].Settings!.SkipIfLarger));
        // The profile's preset is SVT-AV1's "6"; libaom's own scale has a 6 too, so it stays.
        Assert.Equal(("libaom-av1", "6"), (stored[2].Settings!.Encoder, stored[2].Settings!.Preset));
        Assert.Equal(BuiltInProfiles.All["hevc-library"], stored[3].Settings);
    }

    [Fact]
    public async Task AnotherEncoderOfTheSameCodecKeepsTheProfilesCrfAndTakesItsOwnDefaultPresetWhenTheProfilesDoesNotFit()
    {
        await PutAsync("x264-slow", new { crf = 22, preset = "slow" });

        var job = (await client.EnqueueAsync(new { file_name = "a.mkv", profile = "x264-slow", encoder = "h264_nvenc" }))[0];

        Assert.Equal(("h264", "h264_nvenc", "p4", "22"), (job.Settings!.VideoCodec, job.Settings.Encoder, job.Settings.Preset, job.Settings.Crf));
    }

    [Fact]
    public async Task AProfilesCrfIsNotCarriedIntoAnotherCodecsScale()
    {
        var response = await client.PostAsJsonAsync("/api/jobs", new { file_name = "a.mkv", profile = "av1-archive", video_codec = "h264" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("crf", error.GetProperty("field").GetString());
        Assert.Contains("the profile's crf is on libsvtav1's scale, not libx264's", error.GetProperty("error").GetString());
        Assert.Equal("28", (await client.EnqueueAsync(new { file_name = "a.mkv", profile = "av1-archive", video_codec = "h264", crf = 28 }))[0].Settings!.Crf);
    }

    [Fact]
    public async Task TheEncodeOptionsAreTheCatalogs()
    {
        var options = await client.GetFromJsonAsync<JsonElement>("/api/encode-options");

        Assert.Equal(EncoderCatalog.Encoders.Select(encoder => encoder.Name),
            options.GetProperty("encoders").EnumerateArray().Select(encoder => encoder.GetProperty("name").GetString()));
        Assert.Equal(["av1", "vp9", "copy"],
            options.GetProperty("containers").GetProperty("webm").GetProperty("video").EnumerateArray().Select(codec => codec.GetString()));
        Assert.Equal("libx264", options.GetProperty("defaults").GetProperty("encoder").GetString());
        // What a job naming more than crf and preset starts from: every track kept.
        Assert.Equal("copy", options.GetProperty("defaults").GetProperty("subtitles").GetString());
        Assert.Equal(["sdr"], options.GetProperty("tonemap").EnumerateArray().Select(mode => mode.GetString()));
    }
}
