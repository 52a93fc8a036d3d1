using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

// SQLite files from earlier releases; PostgreSQL support starts at its step 1.
[Trait("Store", TestStore.RunOnce)]
public sealed class SchemaTests
{
    /// <summary>A file written by the first release (schema step 1) opens, keeps its jobs and gains the new columns.</summary>
    [Fact]
    public async Task ADatabaseFromTheFirstReleaseIsBroughtForward()
    {
        var path = TestStore.NewSqlitePath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                old.Open();
                using var command = old.CreateCommand();
                // The ended job ended just now: one stamped 1970 is RetentionDays old, and the host's first
                // upkeep round would rightly delete it while this test reads the list.
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                command.CommandText = $"""
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, file_name TEXT NOT NULL, crf TEXT NOT NULL,
                        preset TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
                        started INTEGER, finished INTEGER, created_at INTEGER NOT NULL);
                    CREATE INDEX jobs_by_status ON jobs (status, id);
                    INSERT INTO jobs (file_name, crf, preset, status, started, created_at) VALUES ('old.mkv', '20', 'slow', 'in_progress', 100, 50);
                    INSERT INTO jobs (file_name, crf, preset, status, created_at) VALUES ('shows\a.mkv', '20', 'slow', 'pending', 60);
                    INSERT INTO jobs (file_name, crf, preset, status, created_at) VALUES ('shows/a.avi', '20', 'slow', 'pending', 70);
                    INSERT INTO jobs (file_name, crf, preset, status, started, finished, created_at) VALUES ('shows/a.webm', '20', 'slow', 'finished', {now - 60}, {now}, {now - 120});
                    PRAGMA user_version = 1;
                    """;
                command.ExecuteNonQuery();
            }

            using var factory = new QueueFactory(path);
            var client = factory.CreateApiClient();
            var jobs = (await client.ListAsync()).OrderBy(job => job.Id).ToArray();
            Assert.Equal(("old.mkv", "20", JobStatus.InProgress, 100L), (jobs[0].FileName, jobs[0].Crf, jobs[0].Status, jobs[0].Started!.Value));
            Assert.Null(jobs[0].Error);
            // Every job gains the output its worker wrote; live jobs that shared one are told apart by id.
            Assert.Equal(["old.mp4", "shows/a.mp4", $"shows/a (job {jobs[2].Id}).mp4", "shows/a.mp4"], jobs.Select(job => job.OutputName));

            // Claimed before claim tokens existed: the original service's bodiless finish still ends it.
            var finished = await client.PostAsync($"/api/jobs/{jobs[0].Id}/finish", null);
            Assert.True(finished.IsSuccessStatusCode);
        }
        finally
        {
            TestStore.Delete(path);
        }
    }
}
