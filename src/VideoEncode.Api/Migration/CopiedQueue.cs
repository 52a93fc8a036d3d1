namespace VideoEncode.Api.Migration;

/// <summary>What `migrate` copied: how many jobs of each status, and the rows of every table copied (jobs first).</summary>
internal sealed record CopiedQueue(IReadOnlyList<(string Status, long Count)> JobsByStatus, IReadOnlyList<(string Row, long Count)> Rows)
{
    /// <summary>
    /// "1234 jobs (12 pending, 1 in_progress, …), 3 workers, 5 idempotency keys", then the other tables'
    /// rows when there were any: ", 2 API keys, 1 webhook, 7 webhook deliveries".
    /// </summary>
    public override string ToString()
    {
        var statuses = JobsByStatus.Count == 0 ? "" : $" ({string.Join(", ", JobsByStatus.Select(s => $"{s.Count} {s.Status}"))})";
        return Counted(Rows[0].Count, Rows[0].Row) + statuses +
               string.Concat(Rows.Skip(1).Where((row, i) => i < 2 || row.Count > 0).Select(row => ", " + Counted(row.Count, row.Row)));
    }

    /// <summary>"1 job and 3 workers".</summary>
    public static string List(IEnumerable<(string Row, long Count)> rows)
    {
        var counted = rows.Select(row => Counted(row.Count, row.Row)).ToList();
        return counted.Count > 1 ? string.Join(", ", counted[..^1]) + " and " + counted[^1] : string.Concat(counted);
    }

    /// <summary>"1 job", "3 jobs", "2 audit trail entries".</summary>
    public static string Counted(long count, string thing) =>
        $"{count} {(count == 1 ? thing : thing.EndsWith('y') && !thing.EndsWith("key") ? thing[..^1] + "ies" : thing + "s")}";
}
