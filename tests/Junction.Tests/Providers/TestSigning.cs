using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Junction.Providers;

namespace Junction.Tests.Providers;

/// <summary>
/// Signs requests the way each provider does, straight from the scheme descriptions, without
/// touching the production <c>Signatures</c> helper, so a shared mistake cannot hide.
/// </summary>
internal static class TestSigning
{
    public static byte[] Hmac(byte[] key, string message)
    {
        using var hmac = new HMACSHA256(key);
        return hmac.ComputeHash(Encoding.UTF8.GetBytes(message));
    }

    /// <summary>Stripe v1: lowercase hex of HMAC-SHA256(UTF-8 of the whole secret, "{t}." + body).</summary>
    public static string StripeV1(string secret, long timestamp, string body) =>
        Convert.ToHexStringLower(Hmac(Encoding.UTF8.GetBytes(secret), timestamp.ToString(CultureInfo.InvariantCulture) + "." + body));

    /// <summary>Shopify: base64 of HMAC-SHA256(UTF-8 of the secret, body).</summary>
    public static string Shopify(string secret, string body) =>
        Convert.ToBase64String(Hmac(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Standard Webhooks: "v1," + base64 of HMAC-SHA256(base64-decoded secret, "{id}.{timestamp}." + body).</summary>
    public static string StandardV1(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        return "v1," + Convert.ToBase64String(Hmac(key, $"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}"));
    }

    /// <summary>A request whose header lookup is case-insensitive, as HTTP headers are.</summary>
    public static WebhookRequest Request(string body, params (string Name, string Value)[] headers)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers) map[name] = value;
        return new WebhookRequest(Encoding.UTF8.GetBytes(body), name => map.TryGetValue(name, out var v) ? v : null);
    }
}
