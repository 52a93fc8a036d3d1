using Dapper;

namespace VideoEncode.Api.Jobs;

/// <summary>
/// The jobs a <see cref="JobFilter"/> selects, as one store spells it: the FROM clause, the column to
/// order and page by (the job's id, or what stands for it), the conditions and their parameters.
/// Each driver makes its own (<see cref="IQueueDriver{TConnection}.Select"/>), since each
/// searches file names its own way; the statements built on it are here, the same for both.
/// </summary>
internal sealed record JobSelection(string From, string Id, IReadOnlyList<string> Conditions, DynamicParameters Parameters)
{
    /// <summary>A page of the list: the filter, before_id, the order, limit and offset.</summary>
    public (string Sql, DynamicParameters Parameters) List(JobListQuery query)
    {
        var conditions = Conditions.ToList();
        if (query.BeforeId is not null)
        {
            conditions.Add($"{Id} < @beforeid");
            Parameters.Add("beforeid", query.BeforeId);
        }
        Parameters.Add("limit", query.Limit);
        Parameters.Add("offset", query.Offset);
        var order = query.Sort switch
        {
            JobSort.Oldest => Id,
            JobSort.Priority => $"priority DESC, {Id} DESC",
            JobSort.Status => $"status DESC, {Id} DESC",
            _ => $"{Id} DESC",
        };
        return ($"SELECT {JobRules.Columns} FROM {From} {Where(conditions)} ORDER BY {order} LIMIT @limit OFFSET @offset", Parameters);
    }

    /// <summary>
    /// The newest <paramref name="limit"/> selected jobs as a bulk action judges them (<see cref="BulkCandidate"/>);
    /// <paramref name="suffix"/> is what the store appends (PostgreSQL: FOR UPDATE).
    /// </summary>
    public (string Sql, DynamicParameters Parameters) Candidates(int limit, string suffix = "")
    {
        Parameters.Add("limit", limit);
        return ($"""
            SELECT {Id} AS id, status, cancel_requested AS cancelrequested, output_name AS outputname FROM {From} {Where(Conditions)}
            ORDER BY {Id} DESC LIMIT @limit {suffix}
            """, Parameters);
    }

    /// <summary>This selection narrowed by one more condition with its parameter.</summary>
    public JobSelection And(string condition, string parameter, object value)
    {
        Parameters.Add(parameter, value);
        return this with { Conditions = [.. Conditions, condition] };
    }

    private static string Where(IReadOnlyList<string> conditions) => conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);

    /// <summary>The selection both stores start from: the jobs table, by id, filtered by status when asked.</summary>
    public static JobSelection Jobs(JobFilter filter)
    {
        var parameters = new DynamicParameters();
        // Tasks are listed with their job (GET /api/jobs/{id}/tasks), never as jobs of their own.
        var conditions = new List<string>(3) { "parent_id IS NULL" };
        if (filter.Status is not null)
        {
            conditions.Add("status = @status");
            parameters.Add("status", filter.Status);
        }
        return new JobSelection("jobs", "id", conditions, parameters);
    }
}
