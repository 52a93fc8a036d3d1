using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using VideoEncode.Contracts;
using Xunit;

namespace VideoEncode.Testing;

/// <summary>A tus client's requests to /api/uploads, spelled out header by header as the spec shows them.</summary>
public static class TusCalls
{
    public static HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(Tus.ResumableHeader, Tus.Version);
        return request;
    }

    /// <summary>POST /api/uploads with Upload-Length (and Upload-Metadata when given).</summary>
    public static Task<HttpResponseMessage> CreateAsync(this HttpClient client, long length, string? metadata = null)
    {
        var request = Request(HttpMethod.Post, Tus.UploadsPath);
        request.Headers.Add(Tus.UploadLengthHeader, length.ToString());
        if (metadata is not null) request.Headers.Add(Tus.UploadMetadataHeader, metadata);
        return client.SendAsync(request);
    }

    /// <summary>Creates an upload and answers its id (the last segment of its Location).</summary>
    public static async Task<string> NewUploadAsync(this HttpClient client, long length, string? fileName = null, string? fileType = null)
    {
        var metadata = string.Join(",", new[] { (Tus.FileNameKey, fileName), (Tus.FileTypeKey, fileType) }
            .Where(pair => pair.Item2 is not null).Select(pair => $"{pair.Item1} {Base64(pair.Item2!)}"));
        var response = await client.CreateAsync(length, metadata.Length == 0 ? null : metadata);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!.OriginalString.Split('/')[^1];
    }

    public static Task<HttpResponseMessage> HeadAsync(this HttpClient client, string id) =>
        client.SendAsync(Request(HttpMethod.Head, $"{Tus.UploadsPath}/{id}"));

    public static async Task<long> OffsetAsync(this HttpClient client, string id)
    {
        var response = await client.HeadAsync(id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(Header(response, Tus.UploadOffsetHeader)!);
    }

    /// <summary>PATCH <paramref name="bytes"/> at <paramref name="offset"/>, with an Upload-Checksum when given.</summary>
    public static Task<HttpResponseMessage> PatchAsync(this HttpClient client, string id, long offset, byte[] bytes, string? checksum = null,
        string contentType = Tus.OffsetOctetStream)
    {
        var request = Request(HttpMethod.Patch, $"{Tus.UploadsPath}/{id}");
        request.Headers.Add(Tus.UploadOffsetHeader, offset.ToString());
        if (checksum is not null) request.Headers.Add(Tus.UploadChecksumHeader, checksum);
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return client.SendAsync(request);
    }

    /// <summary>An upload of <paramref name="bytes"/>, sent whole; answers its id.</summary>
    public static async Task<string> UploadAsync(this HttpClient client, byte[] bytes, string? fileName = null, string? fileType = null)
    {
        var id = await client.NewUploadAsync(bytes.Length, fileName, fileType);
        var patched = await client.PatchAsync(id, 0, bytes);
        Assert.True(patched.StatusCode == HttpStatusCode.NoContent, $"{patched.StatusCode}: {await patched.Content.ReadAsStringAsync()}");
        return id;
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    public static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    /// <summary>Uploads a whole file in one PATCH and answers the upload's id.</summary>
    public static async Task<string> UploadFileAsync(this HttpClient client, string path, string? fileName = null) =>
        await client.UploadAsync(await File.ReadAllBytesAsync(path), fileName ?? Path.GetFileName(path));

    /// <summary>A job for an uploaded input.</summary>
    public static object StoreJob(string uploadId, string crf = "30", string preset = "ultrafast") =>
        new { upload_id = uploadId, crf, preset };
}
