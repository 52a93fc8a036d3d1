using System.Text.RegularExpressions;

namespace VideoEncode.Api.Database;

/// <summary>
/// The numbered steps of an embedded schema file (schema.sql for SQLite, schema.postgres.sql for
/// PostgreSQL): each section starts with a line "-- step N" and runs once, in order, on a
/// database whose recorded version is below N. Never edit a step that has shipped; add one.
/// </summary>
internal static partial class SchemaSteps
{
    public static IEnumerable<(int Version, string Sql)> Read(string resourceName)
    {
        var text = ReadResource(resourceName);
        var markers = StepMarker().Matches(text);
        for (var i = 0; i < markers.Count; i++)
        {
            var start = markers[i].Index + markers[i].Length;
            var end = i + 1 < markers.Count ? markers[i + 1].Index : text.Length;
            var version = int.Parse(markers[i].Groups[1].Value);
            // A database records the last step it ran and skips every step numbered below it: a step
            // out of order, or a gap later filled in, would never run on a database that passed it.
            if (version != i + 1)
                throw new InvalidOperationException($"{resourceName}: step {version} is step number {i + 1} in the file; steps must run 1, 2, 3 … in order.");
            yield return (version, text[start..end]);
        }
    }

    private static string ReadResource(string name)
    {
        using var stream = typeof(SchemaSteps).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in the host assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^-- step (\d+)[ \t]*\r?$", RegexOptions.Multiline)]
    private static partial Regex StepMarker();
}
