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
    }

    /// <summary>Reads and writes <see cref="EncodeSettings"/> as the wire JSON it is on the API.</summary>
    internal sealed class SettingsColumn : SqlMapper.TypeHandler<EncodeSettings?>
    {
        public static string Write(EncodeSettings settings) => JsonSerializer.Serialize(settings, WireJson.Options);

        public override EncodeSettings? Parse(object value) =>
            value is string json ? JsonSerializer.Deserialize<EncodeSettings>(json, WireJson.Options) : null;

        public override void SetValue(IDbDataParameter parameter, EncodeSettings? value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = value is null ? DBNull.Value : Write(value);
        }
    }
}
