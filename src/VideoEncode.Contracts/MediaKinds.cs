namespace VideoEncode.Contracts;

/// <summary>
/// Which jobs a claim may be handed, by where their input lies (the claim's "media"): in the
/// workers' shared folder, in the host's media store (uploaded), or either.
/// </summary>
public static class MediaKinds
{
    /// <summary>Jobs whose file_name is under the worker's --input. A claim that names no kind gets only these, as every client did before the store.</summary>
    public const string Shared = "shared";
    /// <summary>Jobs whose input was uploaded to the host: the worker downloads it and uploads its result.</summary>
    public const string Store = "store";
    public const string Any = "any";

    public static readonly IReadOnlyList<string> All = [Shared, Store, Any];
}
