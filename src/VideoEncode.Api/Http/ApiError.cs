using System.Text.Json.Serialization;

namespace VideoEncode.Api.Http;

/// <summary>
/// Every error answer's body: {"error": "..."} as the original service sent, plus, for a bad
/// item in a bulk request, which item and which field (and, for a file enqueued before, its job).
/// </summary>
public sealed record ApiError(string Error)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; init; }

    /// <summary>The job a refused request points to: the one a watched file already became.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? JobId { get; init; }
}
