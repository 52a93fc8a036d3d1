using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Database;

/// <summary>Dapper's settings, made once for the whole host before any query runs, whichever store and command.</summary>
internal static class DapperSetup
{
    [ModuleInitializer]
    internal static void Configure()
    {
        // Columns are snake_case (file_name), properties PascalCase (FileName).
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // A job's and a profile's settings are one text column holding the wire JSON.
        SqlMapper.AddTypeHandler(new SettingsColumn());
        // So is what a task is (jobs.task).
        SqlMapper.AddTypeHandler(new TaskColumn());
    }

    /// <summary>Reads and writes <see cref="JobTask"/> as its wire JSON.</summary>
    internal sealed class TaskColumn : SqlMapper.TypeHandler<JobTask?>
    {
        public static string Write(JobTask task) => JsonSerializer.Serialize(task, WireJson.Options);

        public override JobTask? Parse(object value) => value is string json ? JsonSerializer.Deserialize<JobTask>(json, WireJson.Options) : null;

        public override void SetValue(IDbDataParameter parameter, JobTask? value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = value is null ? DBNull.Value : Write(value);
        }
    }

    /// <summary>Reads and writes <see cref="EncodeSettings"/> as the wire JSON it is on the API.</summary>
    internal sealed class SettingsColumn : SqlMapper.TypeHandler<EncodeSettings?>
    {
        public static string Write(EncodeSettings settings) => JsonSerializer.Serialize(settings, WireJson.Options);

        /// <summary>
        /// The column text of each job's settings, in order: none for today's encode of crf and preset,
        /// which <see cref="Job.Settings"/> reads back from those columns. A bulk request's jobs mostly
        /// share their settings, so a job equal to the one before reuses its text instead of serialising it again.
        /// </summary>
        public static string?[] WriteEach(IReadOnlyList<EncodeSettings> settings)
        {
            var texts = new string?[settings.Count];
            for (var i = 0; i < texts.Length; i++)
                texts[i] = settings[i].IsLegacy ? null : i > 0 && settings[i] == settings[i - 1] ? texts[i - 1] : Write(settings[i]);
            return texts;
        }

        // The last text read on this thread and what it read as: the rows of a list or an enqueue's answer
        // mostly share their settings, and a record is immutable, so one object serves them all.
        [ThreadStatic] private static (string Json, EncodeSettings Settings)? lastRead;

        public override EncodeSettings? Parse(object value)
        {
            if (value is not string json) return null;
            if (lastRead is { } last && last.Json == json) return last.Settings;
            var settings = JsonSerializer.Deserialize<EncodeSettings>(json, WireJson.Options)!;
            lastRead = (json, settings);
            return settings;
        }

        public override void SetValue(IDbDataParameter parameter, EncodeSettings? value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = value is null ? DBNull.Value : Write(value);
        }
    }
}
