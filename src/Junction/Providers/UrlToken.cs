using System.Security.Cryptography;
using System.Text;

namespace Junction.Providers;

/// <summary>
/// Authentication for providers that sign nothing (Teachable, Kajabi): a random secret token in the
/// webhook URL (<c>/v1/hooks/{source}?token=…</c>), compared in constant time with every configured
/// secret. Gumroad predates this helper and keeps its own copy of the same check.
/// </summary>
internal static class UrlToken
{
    public const string Parameter = "token";
    private const int MinLength = 16;

    public static string? Validate(string secret)
    {
        // The token travels in the URL, so it must need no escaping, and it is the only credential.
        if (secret.Length < MinLength) return $"expected a random URL token of at least {MinLength} characters";
        return secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            ? null
            : "expected a URL token of letters, digits, '-', '_', '.' or '~' only";
    }

    public static SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets)
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
