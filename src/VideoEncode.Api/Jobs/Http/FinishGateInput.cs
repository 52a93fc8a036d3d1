using System.Text.Json;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// What a finish says the worker's quality gate measured and decided: ssim (0–1) and psnr (0 to
/// <see cref="FinishReport.MaxPsnr"/> dB, identical pictures reported as that), each optional, and
/// result (<see cref="JobResults"/>; encoded when not said). A kept_original finish names no
/// output_upload_id: the encode was discarded, there is no result file. A task's finish may add the result's
/// codec and height, and a plan task's its cuts (<see cref="SplitPlan"/>).
/// </summary>
internal static class FinishGateInput
{
    public static (FinishReport? Report, ApiError? Error) Read(JsonElement body, FinishReport report)
    {
        double? ssim = null, psnr = null;
        foreach (var (name, max) in new[] { ("ssim", 1.0), ("psnr", FinishReport.MaxPsnr) })
        {
            if (Field(body, name) is not { } field) continue;
            if (field.ValueKind != JsonValueKind.Number || !field.TryGetDouble(out var value) || value < 0 || value > max)
                return (null, new ApiError($"{name} must be a number from 0 to {max}.") { Field = name });
            if (name == "ssim") ssim = value;
            else psnr = value;
        }
        string? result = null;
        if (Field(body, "result") is { } said)
        {
            result = said.ValueKind == JsonValueKind.String && JobResults.All.Contains(said.GetString()) ? said.GetString() : null;
            if (result is null)
                return (null, new ApiError($"result must be one of: {string.Join(", ", JobResults.All)}.") { Field = "result" });
        }
        if (result == JobResults.KeptOriginal && report.OutputUploadId is not null)
            return (null, new ApiError("A finish with result kept_original names no output_upload_id: the encode was discarded.") { Field = "output_upload_id" });
        string? codec = null;
        if (Field(body, "codec") is { } named)
        {
            codec = named.ValueKind == JsonValueKind.String && named.GetString() is { Length: > 0 and <= 32 } text && text.All(char.IsAsciiLetterOrDigit) ? text : null;
            if (codec is null) return (null, new ApiError("codec must be the result's video codec as ffprobe names it (\"h264\").") { Field = "codec" });
        }
        int? height = null;
        if (Field(body, "height") is { } lines)
        {
            if (lines.ValueKind != JsonValueKind.Number || !lines.TryGetInt32(out var value) || value is < 1 or > 100_000)
                return (null, new ApiError("height must be the result's height in lines, a whole number from 1 to 100000.") { Field = "height" });
            height = value;
        }
        var (plan, planError) = ReadPlan(body);
        if (planError is not null) return (null, planError);
        return (report with { Ssim = ssim, Psnr = psnr, Result = result, Codec = codec, Height = height, Plan = plan }, null);
    }

    /// <summary>
    /// A plan task's cuts: {"chunks": [{"start_seconds": 0, "end_seconds": 10.01, "frames": 250}, …]}, 1 to
    /// <see cref="SplitPlan.MaxChunks"/> chunks in time order, each starting where the one before ends, each with frames.
    /// </summary>
    private static (SplitPlan? Plan, ApiError? Error) ReadPlan(JsonElement body)
    {
        if (Field(body, "plan") is not { } given) return (null, null);
        var refused = new ApiError($"plan must be {{\"chunks\": [{{\"start_seconds\", \"end_seconds\", \"frames\"}}, …]}}: 1 to {SplitPlan.MaxChunks} chunks " +
            "in time order, each starting where the one before ends, each of one frame or more.") { Field = "plan" };
        if (given.ValueKind != JsonValueKind.Object || Field(given, "chunks") is not { ValueKind: JsonValueKind.Array } chunks
            || chunks.GetArrayLength() is 0 or > SplitPlan.MaxChunks) return (null, refused);
        var cuts = new List<ChunkCut>();
        foreach (var chunk in chunks.EnumerateArray())
        {
            if (chunk.ValueKind != JsonValueKind.Object
                || Field(chunk, "start_seconds") is not { ValueKind: JsonValueKind.Number } start || !start.TryGetDouble(out var from)
                || Field(chunk, "end_seconds") is not { ValueKind: JsonValueKind.Number } end || !end.TryGetDouble(out var to)
                || Field(chunk, "frames") is not { ValueKind: JsonValueKind.Number } frames || !frames.TryGetInt64(out var count)
                || from < 0 || to <= from || count < 1 || !double.IsFinite(to)
                || cuts.Count > 0 && Math.Abs(cuts[^1].EndSeconds - from) > 0.001) return (null, refused);
            cuts.Add(new ChunkCut(from, to, count));
        }
        return (new SplitPlan(cuts), null);
    }

    private static JsonElement? Field(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
