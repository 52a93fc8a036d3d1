using System.Security.Cryptography;

namespace VideoEncode.Api.Uploads;

/// <summary>
/// A PATCH's Upload-Checksum header (the tus checksum extension): an algorithm and the base64 digest of
/// that request's body. The host checks it once the body has arrived; a mismatch discards the body.
/// </summary>
public sealed record UploadChecksum(HashAlgorithmName Algorithm, byte[] Expected)
{
    private static readonly (string Name, HashAlgorithmName Algorithm)[] Supported =
        [("sha1", HashAlgorithmName.SHA1), ("sha256", HashAlgorithmName.SHA256), ("sha512", HashAlgorithmName.SHA512), ("md5", HashAlgorithmName.MD5)];

    /// <summary>The Tus-Checksum-Algorithm list (sha1 first: the spec requires it of every server).</summary>
    public static string Algorithms { get; } = string.Join(",", Supported.Select(entry => entry.Name));

    /// <summary>The checksum <paramref name="header"/> asks for (null or empty: none), or why it cannot be checked.</summary>
    public static (UploadChecksum? Checksum, string? Problem) Parse(string? header)
    {
        if (string.IsNullOrEmpty(header)) return (null, null);
        var parts = header.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2) return (null, "Upload-Checksum must be an algorithm and a base64 digest, separated by a space.");
        var algorithm = Supported.Where(entry => entry.Name == parts[0]).Select(entry => (HashAlgorithmName?)entry.Algorithm).FirstOrDefault();
        if (algorithm is null) return (null, $"Upload-Checksum: '{parts[0]}' is not supported; use one of {Algorithms}.");
        var expected = new byte[parts[1].Length];
        if (!Convert.TryFromBase64String(parts[1], expected, out var length))
            return (null, "Upload-Checksum: the digest is not base64.");
        return (new UploadChecksum(algorithm.Value, expected[..length]), null);
    }

    public IncrementalHash NewHash() => IncrementalHash.CreateHash(Algorithm);

    /// <summary>Whether <paramref name="hash"/>, fed the whole body, matches.</summary>
    public bool Matches(IncrementalHash hash) => CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), Expected);
}
