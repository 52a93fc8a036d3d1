using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VideoEncode.Api.Webhooks;

/// <summary>
/// How a delivery proves it came from this queue, in Stripe's scheme: the header
/// <c>VideoEncode-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body" keyed with the webhook's secret&gt;</c>.
/// Signing the time with the body lets a receiver refuse an old delivery replayed by someone who saw it.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "VideoEncode-Signature";

    /// <summary>The delivery's id, the same on each of its retries: a receiver can recognise one it has already handled.</summary>
    public const string DeliveryHeaderName = "VideoEncode-Delivery";

    public static string Header(string secret, long timestamp, string body)
    {
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
