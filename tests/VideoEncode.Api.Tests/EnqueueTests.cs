using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

[Trait("Store", TestStore.Contract)]
public sealed class EnqueueTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public EnqueueTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task OneJobAnswers201WithAnArrayInTheOriginalShape()
    {
        var response = await Post("""{"file_name": "video.mp4", "crf": "23", "preset": "medium"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var job = Assert.Single(body.RootElement.EnumerateArray());
        Assert.Equal(1, job.GetProperty("id").GetInt64());
        Assert.Equal("video.mp4", job.GetProperty("file_name").GetString());
        Assert.Equal(JsonValueKind.String, job.GetProperty("crf").ValueKind);
        Assert.Equal("23", job.GetProperty("crf").GetString());
        Assert.Equal("medium", job.GetProperty("preset").GetString());
        Assert.Equal("pending", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("started").ValueKind);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("finished").ValueKind);
        var createdAt = job.GetProperty("created_at").GetInt64();
        Assert.InRange(createdAt, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
    }

    [Fact]
    public async Task AnArrayCreatesEveryJobInOrder()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("video1.mp4"), QueueCalls.NewJob("video2.mp4", "28", "fast"));
        Assert.Equal(["video1.mp4", "video2.mp4"], jobs.Select(job => job.FileName));
        Assert.True(jobs[1].Id > jobs[0].Id);
        Assert.Equal("28", jobs[1].Crf);
        Assert.Equal("fast", jobs[1].Preset);
    }

    [Theory]
    [InlineData("23", "23")]
    [InlineData("23.50", "23.5")]
    [InlineData("0", "0")]
    [InlineData("51", "51")]
    [InlineData("023", "23")]
    public async Task CrfAsAStringComesBackAsCanonicalText(string sent, string stored)
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob(crf: sent)))[0];
        Assert.Equal(stored, job.Crf);
    }

    [Fact]
    public async Task CrfAsANumberComesBackAsText()
    {
        var response = await Post("""{"file_name": "a.mp4", "crf": 18.5, "preset": "SLOW"}""");
        var job = (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0];
        Assert.Equal("18.5", job.Crf);
        Assert.Equal("slow", job.Preset);
    }

    [Fact]
    public async Task CurlsDefaultFormContentTypeIsAcceptedAsTheOriginalDid()
    {
        var response = await client.PostAsync("/api/jobs",
            new StringContent("""{"file_name":"v.mp4","crf":"23","preset":"medium"}""", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static TheoryData<string, string> HostileBodies => new()
    {
        { "", "empty" },
        { "{", "not valid JSON" },
        { "\"video.mp4\"", "job object" },
        { "[]", "empty" },
        { "[1]", "must be a job object" },
        { """{"crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": 5, "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "../etc/passwd", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "shows/../../secret.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "a\\..\\..\\b.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "/etc/passwd", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "\\\\server\\share\\a.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "C:\\videos\\a.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "bad\u0000name.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "line\nbreak.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "folder/", "crf": "23", "preset": "medium"}""", "file_name" },
        { $$"""{"file_name": "{{new string('a', 1025)}}", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": ".", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "a/./b.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "a/.", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "shows./ep1.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "ep1.mkv.", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "shows /ep1.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "ep1.mkv ", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "a​b.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "evil‮vkm.mp4", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "x⁦y.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "x‏y.mkv", "crf": "23", "preset": "medium"}""", "file_name" },
        { """{"file_name": "a.mp4", "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": "52", "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": -1, "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": "abc", "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": "1e1", "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": " 23", "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": true, "preset": "medium"}""", "crf" },
        { """{"file_name": "a.mp4", "crf": "23"}""", "preset" },
        { """{"file_name": "a.mp4", "crf": "23", "preset": "turbo"}""", "preset" },
        { """{"file_name": "a.mp4", "crf": "23", "preset": ["medium"]}""", "preset" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task BadInputIsRefusedWithAClearMessageAndNothingIsStored(string body, string mentioned)
    {
        var response = await Post(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(mentioned, await QueueCalls.ErrorOf(response));
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task ABulkRequestWithOneBadItemStoresNothingAndNamesTheItem()
    {
        var jobs = Enumerable.Range(0, 50).Select(i => QueueCalls.NewJob($"ok{i}.mp4")).ToList();
        jobs[37] = QueueCalls.NewJob("../escape.mp4");
        var response = await client.PostAsJsonAsync("/api/jobs", jobs);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(37, error.RootElement.GetProperty("index").GetInt32());
        Assert.Equal("file_name", error.RootElement.GetProperty("field").GetString());
        Assert.Contains("index 37", error.RootElement.GetProperty("error").GetString());
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task TenThousandJobsFitInOneRequestAndOneMoreIsRefused()
    {
        var jobs = Enumerable.Range(0, 10_000).Select(i => QueueCalls.NewJob($"bulk/{i}.mp4")).ToArray();
        var created = await client.EnqueueAsync(jobs);
        Assert.Equal(10_000, created.Length);
        Assert.Equal(10_000, created.Select(job => job.Id).Distinct().Count());

        var tooMany = await client.PostAsJsonAsync("/api/jobs", jobs.Append(QueueCalls.NewJob()).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("10000", await QueueCalls.ErrorOf(tooMany));
        Assert.Equal(10_000, (await client.ListAsync("limit=1000&offset=9000")).Length + 9000);
        Assert.Empty(await client.ListAsync("limit=1000&offset=10000"));
    }

    [Fact]
    public async Task AHugeBodyIsRefusedWith413()
    {
        var item = "{\"file_name\":\"x.mp4\",\"crf\":\"23\",\"preset\":\"medium\",\"pad\":\"" + new string('x', 4096) + "\"}";
        var huge = "[" + string.Join(",", Enumerable.Repeat(item, 4500)) + "]";
        var response = await Post(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than", await QueueCalls.ErrorOf(response));
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task ExtraFieldsAreIgnored()
    {
        var response = await Post("""{"file_name": "a.mp4", "crf": "23", "preset": "medium", "colour": "blue"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private Task<HttpResponseMessage> Post(string json) =>
        client.PostAsync("/api/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
}
