using System.Security.Cryptography;
using System.Text;

namespace Junction.Providers;

/// <summary>
/// A secret token in the hook URL (<c>/v1/hooks/{source}?token=…</c>), for providers that sign
/// nothing (Mailchimp, ActiveCampaign, Kit's legacy webhooks). Compared in constant time with every
/// configured secret, so rotation works by listing both tokens.
/// </summary>
internal static class UrlToken
{
    public const string Parameter = "token";
    public const int MinLength = 16;

    /// <summary>Null when <paramref name="secret"/> can be a URL token, else what is wrong (never the secret).</summary>
    public static string? Validate(string secret)
    {
        if (secret.Length < MinLength) return $"expected a random URL token of at least {MinLength} characters";
        return secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            ? null
            : "expected a URL token of letters, digits, '-', '_', '.' or '~' only";
    }

    public static SignatureCheck Check(WebhookRequest request, IReadOnlyList<string> secrets)
    {
        var token = request.QueryValue(Parameter);
        if (string.IsNullOrEmpty(token))
        {
            return new SignatureCheck(SignatureFailure.MissingSignature, $"query parameter {Parameter} is missing");
        }
        // Hashing first makes the comparison constant-time in the length as well as the content.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var matched = false;
        foreach (var secret in secrets)
        {
            matched |= CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        }
        return matched
            ? SignatureCheck.Valid
            : new SignatureCheck(SignatureFailure.BadSignature, $"query parameter {Parameter} matches no configured secret");
    }
}
