using System.Text.Json;
using VideoEncode.Api.Http;
using VideoEncode.Contracts;

namespace VideoEncode.Api.Jobs.Http;

/// <summary>
/// What a finish says the worker's quality gate measured and decided: ssim (0–1) and psnr (0 to
/// <see cref="FinishReport.MaxPsnr"/> dB, identical pictures reported as that), each optional, and
/// result (<see cref="JobResults"/>; encoded when not said). A kept_original finish names no
/// output_upload_id: the encode was discarded, there is no result file.
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
        return (report with { Ssim = ssim, Psnr = psnr, Result = result }, null);
    }

    private static JsonElement? Field(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
