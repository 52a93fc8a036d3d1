using Microsoft.Data.Sqlite;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Tests;

public sealed class SchemaTests
{
    /// <summary>A file written by the first release (schema step 1) opens, keeps its jobs and gains the new columns.</summary>
    [Fact]
    public async Task ADatabaseFromTheFirstReleaseIsBroughtForward()
    {
        var path = QueueFactory.NewDatabasePath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                old.Open();
                using var command = old.CreateCommand();
                command.CommandText = """
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, file_name TEXT NOT NULL, crf TEXT NOT NULL,
                        preset TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
                        started INTEGER, finished INTEGER, created_at INTEGER NOT NULL);
                    CREATE INDEX jobs_by_status ON jobs (status, id);
                    INSERT INTO jobs (file_name, crf, preset, status, started, created_at) VALUES ('old.mkv', '20', 'slow', 'in_progress', 100, 50);
                    PRAGMA user_version = 1;
                    """;
                command.ExecuteNonQuery();
            }

            using var factory = new QueueFactory(path);
            var client = factory.CreateApiClient();
            var job = Assert.Single(await client.ListAsync());
            Assert.Equal(("old.mkv", "20", JobStatus.InProgress, 100L), (job.FileName, job.Crf, job.Status, job.Started!.Value));
            Assert.Null(job.Error);

            var failed = await client.PostAsync($"/api/jobs/{job.Id}/fail", System.Net.Http.Json.JsonContent.Create(new { error = "boom" }));
            Assert.True(failed.IsSuccessStatusCode);
        }
        finally
        {
            QueueFactory.DeleteDatabase(path);
        }
    }
}
