namespace VideoEncode.Contracts;

/// <summary>
/// The host's media store speaks tus 1.0 (https://tus.io/protocols/resumable-upload) at <see cref="UploadsPath"/>:
/// the names and values a client (the worker, the add-jobs page, curl) and the host must agree on.
/// </summary>
public static class Tus
{
    /// <summary>POST here creates an upload; its Location is <c>{UploadsPath}/{id}</c>.</summary>
    public const string UploadsPath = "/api/uploads";

    public const string Version = "1.0.0";

    /// <summary>The Content-Type every PATCH carries.</summary>
    public const string OffsetOctetStream = "application/offset+octet-stream";

    public const string ResumableHeader = "Tus-Resumable";
    public const string VersionHeader = "Tus-Version";
    public const string ExtensionHeader = "Tus-Extension";
    public const string MaxSizeHeader = "Tus-Max-Size";
    public const string ChecksumAlgorithmHeader = "Tus-Checksum-Algorithm";
    public const string UploadLengthHeader = "Upload-Length";
    public const string UploadOffsetHeader = "Upload-Offset";
    public const string UploadMetadataHeader = "Upload-Metadata";
    public const string UploadExpiresHeader = "Upload-Expires";
    public const string UploadChecksumHeader = "Upload-Checksum";
    public const string MethodOverrideHeader = "X-HTTP-Method-Override";

    /// <summary>The answer to a PATCH whose Upload-Checksum does not match its body (the tus checksum extension's own status).</summary>
    public const int ChecksumMismatchStatus = 460;

    /// <summary>The metadata keys the host reads: the file's name (offered again on download) and its media type.</summary>
    public const string FileNameKey = "filename";
    public const string FileTypeKey = "filetype";
}
