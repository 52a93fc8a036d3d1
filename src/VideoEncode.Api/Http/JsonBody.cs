using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace VideoEncode.Api.Http;

/// <summary>
/// Reads a request body as JSON with a size bound, so a huge or malformed body becomes a clear
/// 413 or 400 instead of memory pressure or an exception. The Content-Type is not insisted on:
/// curl's -d sends form encoding by default and the original service accepted it. The body is
/// read through Kestrel's PipeReader and copied once, into the array the document is parsed from.
/// </summary>
internal static class JsonBody
{
    /// <summary>The body as JSON. An empty body is an error unless <paramref name="optional"/>, when it reads as no document.</summary>
    public static async Task<(JsonDocument? Document, JsonHttpResult<ApiError>? Error)> ReadAsync(HttpRequest request, long maxBytes, bool optional = false)
    {
        if (request.ContentLength > maxBytes)
            return (null, TooLarge(maxBytes));

        var body = request.BodyReader;
        while (true)
        {
            var read = await body.ReadAsync(request.HttpContext.RequestAborted);
            var buffer = read.Buffer;
            if (buffer.Length > maxBytes)
            {
                body.AdvanceTo(buffer.End);
                return (null, TooLarge(maxBytes));
            }
            if (!read.IsCompleted)
            {
                body.AdvanceTo(buffer.Start, buffer.End); // nothing consumed yet: wait for the rest
                continue;
            }
            try
            {
                if (buffer.IsEmpty)
                    return optional ? (null, null) : (null, BadRequest("The request body is empty; send JSON."));
                // A copy: JsonDocument keeps using the memory it parsed (for a single-segment
                // sequence it does not copy), and Kestrel reuses its buffers once we advance.
                return (JsonDocument.Parse(buffer.ToArray()), null);
            }
            catch (JsonException e)
            {
                return (null, BadRequest($"The request body is not valid JSON: {e.Message}"));
            }
            finally
            {
                body.AdvanceTo(buffer.End);
            }
        }
    }

    private static JsonHttpResult<ApiError> TooLarge(long maxBytes) =>
        TypedResults.Json(new ApiError($"The request body is larger than {maxBytes} bytes."), statusCode: StatusCodes.Status413PayloadTooLarge);

    private static JsonHttpResult<ApiError> BadRequest(string message) =>
        TypedResults.Json(new ApiError(message), statusCode: StatusCodes.Status400BadRequest);
}
