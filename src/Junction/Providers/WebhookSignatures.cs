using System.Security.Cryptography;
using System.Text;

namespace Junction.Providers;

/// <summary>
/// The signing scheme of the Standard Webhooks specification (standardwebhooks.com), which Junction
/// both verifies (a source) and signs with (its outgoing webhooks and alert notifications):
/// <c>whsec_</c> secrets and <c>v1,</c> HMAC-SHA256 signatures over <c>id.timestamp.body</c>.
/// </summary>
public static class WebhookSignatures
{
    /// <summary>What a secret must look like, for config errors.</summary>
    public const string SecretExpected = "whsec_ followed by base64 (24 to 64 bytes)";

    /// <summary>The key of a <c>whsec_</c> secret (the prefix is optional); null when it is not 24 to 64 bytes of base64.</summary>
    public static byte[]? DecodeSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var b64 = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret;
        try
        {
            var key = Convert.FromBase64String(b64);
            return key.Length is >= 24 and <= 64 ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The <c>webhook-signature</c> value: <c>v1,</c> and the base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>.</summary>
    public static string Sign(byte[] key, string id, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }
}
