using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>
/// The HTTP side of jobs made of tasks: what a request may ask ("outputs", "package", "thumbnails", "split_seconds"),
/// the 400 that names the field at fault and stores nothing, and the routes that show a job's tasks, outputs and thumbnails.
/// The rules of the tasks themselves are the store contract's (StoreContract/TaskContractTests).
/// </summary>
public sealed class TaskRequestTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public TaskRequestTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    private Task<HttpResponseMessage> PostAsync(string json) =>
        client.PostAsync("/api/jobs", new StringContent(json, Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("""{"file_name": "a.mkv", "outputs": []}""", "outputs")]
    [InlineData("""{"file_name": "a.mkv", "outputs": [{"crf": 23, "preset": "fast", "file_name": "b.mkv"}]}""", "outputs[0].file_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{}, {"crf": 99}]}""", "outputs[1].crf")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{"output_name": "a.webm"}]}""", "outputs[0].output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{}], "output_name": "a.mp4"}""", "output_name")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{}], "split_seconds": 60}""", "split_seconds")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{"profile": "nope"}]}""", "outputs[0].profile")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "package": {"format": "mp4"}}""", "package")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "package": {"format": "hls", "ladder": [721]}}""", "package")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "package": {"format": "hls", "segment_secs": 4}}""", "package")]
    [InlineData("""{"file_name": "a.mkv", "profile": "remux-mkv", "package": {"format": "dash"}}""", "package")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "thumbnails": {"width": 15}}""", "thumbnails")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "split_seconds": 5}""", "split_seconds")]
    [InlineData("""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "split_seconds": 60, "package": {"format": "hls"}}""", "split_seconds")]
    public async Task ABadTaskRequestIs400NamingItsFieldAndStoresNothing(string body, string field)
    {
        using var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, error.RootElement.GetProperty("field").GetString());
        Assert.Empty(await client.ListAsync());
    }

    [Fact]
    public async Task NineOutputsAreTooMany()
    {
        var outputs = string.Join(", ", Enumerable.Range(0, VideoEncode.Api.Jobs.Http.JobInput.MaxOutputs + 1).Select(i => $$"""{"output_name": "o{{i}}.mp4"}"""));
        using var response = await PostAsync($$"""{"file_name": "a.mkv", "crf": 23, "preset": "fast", "outputs": [{{outputs}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task AProfileCarriesALadderAndThumbnailsAndTheJobShowsItsTasksAndOutputs()
    {
        using var created = await PostAsync("""{"file_name": "talks/keynote.mkv", "profile": "web-ladder"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = (await created.Content.ReadFromJsonAsync<Job[]>(WireJson.Options))![0];
        Assert.True(job.HasTasks);
        Assert.Equal((PackageFormats.Hls, 10), (job.Settings.Package!.Format, job.Settings.Thumbnails!.EverySeconds));

        var tasks = await client.GetFromJsonAsync<TaskLine[]>($"/api/jobs/{job.Id}/tasks", WireJson.Options);
        Assert.Equal([(TaskKinds.Package, "talks/keynote"), (TaskKinds.Thumbnails, "talks/keynote/storyboard.vtt")],
            tasks!.Select(task => (task.Kind, task.OutputName!)));
        using var shown = JsonDocument.Parse(await client.GetStringAsync($"/api/jobs/{job.Id}"));
        Assert.True(shown.RootElement.GetProperty("has_tasks").GetBoolean());
        Assert.Equal(2, shown.RootElement.GetProperty("outputs").GetArrayLength());
        // Not finished: no storyboard yet.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.Id}/thumbnails/storyboard.vtt")).StatusCode);
    }

    [Fact]
    public async Task APlainJobHasNoTasksAndTellsNothingNewOnTheWire()
    {
        var job = (await client.EnqueueAsync(QueueCalls.NewJob("a.mkv")))[0];

        Assert.Empty((await client.GetFromJsonAsync<TaskLine[]>($"/api/jobs/{job.Id}/tasks", WireJson.Options))!);
        using var shown = JsonDocument.Parse(await client.GetStringAsync($"/api/jobs/{job.Id}"));
        Assert.False(shown.RootElement.TryGetProperty("has_tasks", out _));
        Assert.False(shown.RootElement.TryGetProperty("outputs", out _));
        Assert.False(shown.RootElement.TryGetProperty("task", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/jobs/999/tasks")).StatusCode);
    }
}
