using System.Net;
using System.Net.Http.Json;
using System.Text;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>POST /api/jobs with an Idempotency-Key: a client that retries after a lost answer creates its jobs once.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class IdempotencyTests : IDisposable
{
    private const string Body = """[{"file_name": "a.mkv", "crf": "23", "preset": "fast"}, {"file_name": "b.mkv", "crf": "23", "preset": "fast"}]""";
    private readonly ManualClock clock = new();
    private readonly QueueFactory factory;
    private readonly HttpClient client;

    public IdempotencyTests()
    {
        factory = new QueueFactory(clock: clock);
        client = factory.CreateApiClient();
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task ARepeatWithTheSameKeyAnswersTheOriginalJobsAndCreatesNothing()
    {
        var first = await Post("key-1", Body, HttpStatusCode.Created);
        clock.Advance(TimeSpan.FromHours(23));
        var again = await Post("key-1", Body, HttpStatusCode.Created);

        Assert.Equal(first.Select(job => job.Id), again.Select(job => job.Id));
        Assert.Equal(2, (await client.ListAsync()).Length);
        Assert.Equal(2, factory.LogLines.Count(line => line.Contains("none -> pending via enqueue")));
    }

    /// <summary>A client that retries before its first attempt was answered: the attempts race, and still only one creates jobs.</summary>
    [Fact]
    public async Task ConcurrentRepeatsWithTheSameKeyCreateTheJobsOnce()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "raced");
            return client.SendAsync(request);
        }));
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.Created, answer.StatusCode));
        var ids = await Task.WhenAll(answers.Select(async answer => string.Join(',', (await answer.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!.Select(job => job.Id))));
        Assert.Single(ids.Distinct());
        Assert.Equal(2, (await client.ListAsync()).Length);
    }

    [Fact]
    public async Task AnotherKeyOrNoKeyCreatesNewJobs()
    {
        await Post("key-1", Body, HttpStatusCode.Created);
        await Post("key-2", Body, HttpStatusCode.Created);
        Assert.Equal(4, (await client.ListAsync()).Length);
    }

    [Fact]
    public async Task AKeyIsForgottenAfter24Hours()
    {
        var first = await Post("key-1", Body, HttpStatusCode.Created);
        clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var later = await Post("key-1", Body, HttpStatusCode.Created);
        Assert.DoesNotContain(later[0].Id, first.Select(job => job.Id));
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBodyAnswers422AndCreatesNothing()
    {
        await Post("key-1", Body, HttpStatusCode.Created);
        var response = await Send("key-1", """{"file_name": "other.mkv", "crf": "23", "preset": "fast"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("Idempotency-Key", await QueueCalls.ErrorOf(response));
        Assert.Equal(2, (await client.ListAsync()).Length);
    }

    [Fact]
    public async Task ARefusedRequestDoesNotUseUpItsKey()
    {
        var bad = await Send("key-1", """{"file_name": "../x", "crf": "23", "preset": "fast"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(2, (await Post("key-1", Body, HttpStatusCode.Created)).Length);
    }

    [Fact]
    public async Task AnUnprintableOrOverlongKeyAnswers400()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(new string('k', 256), Body)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send("key é", Body)).StatusCode);
        Assert.Empty(await client.ListAsync());
    }

    private async Task<Job[]> Post(string key, string body, HttpStatusCode expected)
    {
        var response = await Send(key, body);
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))!;
    }

    private Task<HttpResponseMessage> Send(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return client.SendAsync(request);
    }
}
