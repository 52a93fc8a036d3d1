using System.Globalization;
using VideoEncode.Api.Configuration;

namespace VideoEncode.Api.Auth;

/// <summary>
/// Whether the configured admin key is too easy to guess for a host that answers anyone who can reach
/// it. The estimate is deliberately simple, and generous: length × log2 of the alphabet the key's kinds
/// of characters span (lower case 26, upper case 26, digits 10, anything else 33), as if each character
/// were drawn at random from it. A key a person made up scores higher than it deserves; one that scores
/// under <see cref="MinimumBits"/> is short for certain. The stored keys are 256 random bits
/// (<see cref="ApiKeyStore"/>) and pass by construction.
/// </summary>
public static class KeyStrength
{
    public const int MinimumBits = 128;

    /// <summary>The command that makes a good key, named wherever a weak one is refused.</summary>
    public const string HowToMakeOne = "openssl rand -hex 32";

    /// <summary>Estimated bits of <paramref name="key"/>: its length times log2 of the size of the alphabet its kinds of characters span.</summary>
    public static double EstimateBits(string key)
    {
        bool lower = false, upper = false, digit = false, other = false;
        foreach (var c in key)
        {
            if (c is >= 'a' and <= 'z') lower = true;
            else if (c is >= 'A' and <= 'Z') upper = true;
            else if (c is >= '0' and <= '9') digit = true;
            else other = true;
        }
        var alphabet = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 33 : 0);
        return alphabet < 2 ? 0 : key.Length * Math.Log2(alphabet);
    }

    /// <summary>One line for the operator when the configured key is too weak, or null. Never shows the key.</summary>
    public static string? Problem(string configuredKey)
    {
        var bits = EstimateBits(configuredKey);
        if (bits >= MinimumBits) return null;
        return $"The key in {SettingNames.ApiKeyVariable} is too easy to guess: about {Math.Floor(bits).ToString(CultureInfo.InvariantCulture)} bits " +
               $"by its length and kinds of characters, and the host needs at least {MinimumBits}. Make one with `{HowToMakeOne}` " +
               "(64 hex digits) and set it; ./run.sh makes one for local use.";
    }
}
