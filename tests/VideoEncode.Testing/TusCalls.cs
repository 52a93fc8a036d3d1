using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit;

namespace VideoEncode.Testing;

/// <summary>tus 1.0 as a plain client speaks it to /api/uploads: create, then PATCH the bytes.</summary>
public static class TusCalls
{
    /// <summary>Creates an upload of <paramref name="length"/> bytes named <paramref name="fileName"/> and answers its id.</summary>
    public static async Task<string> CreateUploadAsync(this HttpClient client, long length, string fileName)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/uploads");
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Metadata", $"filename {Convert.ToBase64String(Encoding.UTF8.GetBytes(fileName))}");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        return location[(location.LastIndexOf('/') + 1)..];
    }

    /// <summary>One PATCH of <paramref name="bytes"/> at <paramref name="offset"/>.</summary>
    public static async Task<HttpResponseMessage> PatchUploadAsync(this HttpClient client, string id, long offset, byte[] bytes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/uploads/{id}");
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return await client.SendAsync(request);
    }

    /// <summary>Uploads a whole file in one PATCH and answers the upload's id.</summary>
    public static async Task<string> UploadFileAsync(this HttpClient client, string path, string? fileName = null) =>
        await client.UploadAsync(await File.ReadAllBytesAsync(path), fileName ?? Path.GetFileName(path));

    /// <summary>Uploads <paramref name="bytes"/> in one PATCH and answers the upload's id.</summary>
    public static async Task<string> UploadAsync(this HttpClient client, byte[] bytes, string fileName)
    {
        var id = await client.CreateUploadAsync(bytes.Length, fileName);
        using var response = await client.PatchUploadAsync(id, 0, bytes);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return id;
    }

    /// <summary>A job for an uploaded input.</summary>
    public static object StoreJob(string uploadId, string crf = "30", string preset = "ultrafast") =>
        new { upload_id = uploadId, crf, preset };
}
