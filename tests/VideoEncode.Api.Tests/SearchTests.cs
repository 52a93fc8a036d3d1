using System.Net;
using Dapper;
using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

/// <summary>GET /api/jobs?q=…: a piece of the file name, any letter case, with the status filter, sorts and paging.</summary>
[Trait("Store", TestStore.Contract)]
public sealed class SearchTests : IDisposable
{
    private readonly QueueFactory factory = new();
    private readonly HttpClient client;

    public SearchTests() => client = factory.CreateApiClient();

    public void Dispose() => factory.Dispose();

    private async Task<string[]> NamesAsync(string query) => (await client.ListAsync(query)).Select(job => job.FileName).ToArray();

    [Fact]
    public async Task FindsAPieceOfTheFileNameInAnyLetterCase()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("shows/Holiday Special.mkv"), QueueCalls.NewJob("movies/holiday.mkv"),
            QueueCalls.NewJob("movies/work.mkv"), QueueCalls.NewJob("Ünïcode/naïve ÉTÉ.mkv"));

        Assert.Equal(["movies/holiday.mkv", "shows/Holiday Special.mkv"], await NamesAsync("q=HOLIDAY"));
        Assert.Equal(["shows/Holiday Special.mkv"], await NamesAsync("q=" + Uri.EscapeDataString("y sp")));
        Assert.Equal(["Ünïcode/naïve ÉTÉ.mkv"], await NamesAsync("q=" + Uri.EscapeDataString("naïve")));
        Assert.Equal(["movies/work.mkv", "movies/holiday.mkv"], await NamesAsync("q=movies/"));
        Assert.Empty(await NamesAsync("q=nothing-like-this"));
    }

    [Fact]
    public async Task OneOrTwoCharactersAreFoundToo()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("a/x1.mkv"), QueueCalls.NewJob("b/y2.mkv"), QueueCalls.NewJob("c/X1b.mkv"));
        Assert.Equal(["c/X1b.mkv", "a/x1.mkv"], await NamesAsync("q=x1"));
        Assert.Equal(["b/y2.mkv"], await NamesAsync("q=2"));
    }

    [Fact]
    public async Task WildcardsAndQuotesInTheSearchMatchOnlyThemselves()
    {
        await client.EnqueueAsync(QueueCalls.NewJob("100% done.mkv"), QueueCalls.NewJob("100 percent.mkv"), QueueCalls.NewJob("a_b.mkv"),
            QueueCalls.NewJob("axb.mkv"), QueueCalls.NewJob("say \"hi\" OR bye.mkv"), QueueCalls.NewJob(@"back\slash.mkv"));
        Assert.Equal(["100% done.mkv"], await NamesAsync("q=" + Uri.EscapeDataString("0%")));
        Assert.Equal(["100% done.mkv"], await NamesAsync("q=" + Uri.EscapeDataString("100% d")));
        Assert.Equal(["a_b.mkv"], await NamesAsync("q=a_b"));
        Assert.Equal(["a_b.mkv"], await NamesAsync("q=_"));
        Assert.Equal(["say \"hi\" OR bye.mkv"], await NamesAsync("q=" + Uri.EscapeDataString("\"hi\" OR")));
        Assert.Equal([@"back\slash.mkv"], await NamesAsync("q=" + Uri.EscapeDataString(@"k\s")));
    }

    [Fact]
    public async Task CombinesWithTheStatusFilterTheSortsAndBothKindsOfPaging()
    {
        var jobs = await client.EnqueueAsync(Enumerable.Range(1, 30).Select(i => QueueCalls.NewJob(i % 2 == 0 ? $"even/{i}.mkv" : $"odd/{i}.mkv")).ToArray());
        await client.ClaimAsync(); // odd/1.mkv leaves "pending"

        Assert.Equal(["odd/29.mkv", "odd/27.mkv"], await NamesAsync("q=ODD&limit=2"));
        Assert.Equal(["odd/25.mkv", "odd/23.mkv"], await NamesAsync("q=odd&limit=2&offset=2"));
        Assert.Equal(["odd/9.mkv", "odd/7.mkv"], await NamesAsync($"q=odd&limit=2&before_id={jobs[10].Id}"));
        Assert.Equal(["odd/3.mkv"], await NamesAsync($"q=odd&status=pending&before_id={jobs[4].Id}"));
        Assert.Equal(["odd/1.mkv"], await NamesAsync("q=odd&status=in_progress"));
        Assert.Equal(["odd/1.mkv", "odd/3.mkv"], await NamesAsync("q=odd&sort=oldest&limit=2"));
        Assert.Equal(["odd/3.mkv", "odd/1.mkv"], await NamesAsync("q=odd&sort=status&limit=2&offset=13"));
        // d/1 is the only one with a "d/1" in it: a two-character fallback would scan, three use the index.
        Assert.Equal(["odd/1.mkv"], await NamesAsync("q=d/1.&sort=priority"));
    }

    [Fact]
    public async Task SortsByPriorityAndStatusAndRefusesUnknownOrdersAndKeysetPagingOfThem()
    {
        await client.EnqueueAsync(new { file_name = "low.mkv", crf = "23", preset = "medium", priority = -1 },
            new { file_name = "high.mkv", crf = "23", preset = "medium", priority = 5 }, QueueCalls.NewJob("plain.mkv"));
        await client.ClaimAsync(); // high.mkv runs
        Assert.Equal(["high.mkv", "plain.mkv", "low.mkv"], await NamesAsync("sort=priority"));
        Assert.Equal(["plain.mkv", "low.mkv", "high.mkv"], await NamesAsync("sort=status"));
        Assert.Equal(["low.mkv", "high.mkv", "plain.mkv"], await NamesAsync("sort=oldest"));

        var unknown = await client.GetAsync("/api/jobs?sort=size");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("sort must be one of: newest, oldest, priority, status.", await QueueCalls.ErrorOf(unknown));
        var keyset = await client.GetAsync("/api/jobs?sort=priority&before_id=3");
        Assert.Equal(HttpStatusCode.BadRequest, keyset.StatusCode);
        Assert.StartsWith("before_id pages the newest-first order only", await QueueCalls.ErrorOf(keyset));
    }

    [Fact]
    public async Task ATooLongSearchOrOneWithControlCharactersIsRefused()
    {
        var tooLong = await client.GetAsync("/api/jobs?q=" + new string('a', FileNames.MaxLength + 1));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal($"q must be at most {FileNames.MaxLength} characters (no file name is longer).", await QueueCalls.ErrorOf(tooLong));
        var control = await client.GetAsync("/api/jobs?q=a%00b");
        Assert.Equal(HttpStatusCode.BadRequest, control.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs?q=" + new string('a', FileNames.MaxLength))).StatusCode);
    }

    [Fact]
    public async Task ADeletedJobIsNoLongerFound()
    {
        var jobs = await client.EnqueueAsync(QueueCalls.NewJob("keep/needle.mkv"), QueueCalls.NewJob("gone/needle.mkv"));
        await client.DeleteAsync($"/api/jobs/{jobs[1].Id}");
        Assert.Equal(["keep/needle.mkv"], await NamesAsync("q=needle"));
    }

    /// <summary>A queue file from before the search index (schema step 10) gets its old jobs indexed when it is brought forward.</summary>
    [Fact]
    [Trait("Store", TestStore.RunOnce)]
    public async Task JobsStoredBeforeTheSearchIndexAreFoundAfterTheUpgrade()
    {
        var path = TestStore.NewSqlitePath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                connection.Open();
                foreach (var step in VideoEncode.Api.Database.SchemaSteps.Read("schema.sql").Where(step => step.Version <= 10))
                    connection.Execute(step.Sql);
                connection.Execute("PRAGMA user_version = 10");
                connection.Execute("INSERT INTO jobs (file_name, crf, preset, created_at, output_name) VALUES ('old/archived Needle.mkv', '23', 'medium', 1, 'x.mp4')");
            }
            using var upgraded = new QueueFactory(path);
            var found = await upgraded.CreateApiClient().ListAsync("q=needle");
            Assert.Equal(["old/archived Needle.mkv"], found.Select(job => job.FileName));
        }
        finally
        {
            TestStore.Delete(path);
        }
    }
}
