namespace VideoEncode.Contracts;

/// <summary>What a worker is doing with a running job, as its heartbeats report it.</summary>
public static class JobPhase
{
    /// <summary>Fetching a store job's input from the host.</summary>
    public const string Downloading = "downloading";
    public const string Encoding = "encoding";
    /// <summary>The quality gate: decoding the result whole, comparing it with the input (SSIM, PSNR).</summary>
    public const string Checking = "checking";
    /// <summary>Sending a store job's result to the host.</summary>
    public const string Uploading = "uploading";

    public static readonly IReadOnlyList<string> All = [Downloading, Encoding, Checking, Uploading];
}
