using System.Text.RegularExpressions;

namespace VideoEncode.Api.Profiles;

/// <summary>What a profile may be called: short, and safe in a URL path and a shell without quoting.</summary>
public static partial class ProfileRules
{
    public const string NameRule = "must be a profile name: 1 to 64 letters, digits, '.', '_' or '-'";

    public static bool IsName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}
