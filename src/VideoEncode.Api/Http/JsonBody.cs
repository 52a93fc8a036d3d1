using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace VideoEncode.Api.Http;

/// <summary>
/// Reads a request body as JSON with a size bound, so a huge or malformed body becomes a clear
/// 413 or 400 instead of memory pressure or an exception. The Content-Type is not insisted on:
/// curl's -d sends form encoding by default and the original service accepted it.
/// </summary>
internal static class JsonBody
{
    /// <summary>The body as JSON. An empty body is an error unless <paramref name="optional"/>, when it reads as no document.</summary>
    public static async Task<(JsonDocument? Document, JsonHttpResult<ApiError>? Error)> ReadAsync(HttpRequest request, long maxBytes, bool optional = false)
    {
        if (request.ContentLength > maxBytes)
            return (null, TooLarge(maxBytes));

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                return (null, TooLarge(maxBytes));
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            return optional ? (null, null) : (null, BadRequest("The request body is empty; send JSON."));
        try
        {
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), null);
        }
        catch (JsonException e)
        {
            return (null, BadRequest($"The request body is not valid JSON: {e.Message}"));
        }
    }

    private static JsonHttpResult<ApiError> TooLarge(long maxBytes) =>
        TypedResults.Json(new ApiError($"The request body is larger than {maxBytes} bytes."), statusCode: StatusCodes.Status413PayloadTooLarge);

    private static JsonHttpResult<ApiError> BadRequest(string message) =>
        TypedResults.Json(new ApiError(message), statusCode: StatusCodes.Status400BadRequest);
}
