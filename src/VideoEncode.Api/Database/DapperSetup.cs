using System.Runtime.CompilerServices;
using Dapper;

namespace VideoEncode.Api.Database;

/// <summary>Dapper's settings, made once for the whole host before any query runs, whichever store and command.</summary>
internal static class DapperSetup
{
    [ModuleInitializer]
    internal static void Configure() =>
        // Columns are snake_case (file_name), properties PascalCase (FileName).
        DefaultTypeMap.MatchNamesWithUnderscores = true;
}
