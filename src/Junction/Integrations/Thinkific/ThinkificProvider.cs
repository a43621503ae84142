using System.Text;
using Junction.Providers;

namespace Junction.Integrations.Thinkific;

/// <summary>
/// Thinkific: <c>X-Thinkific-Hmac-Sha256</c> is the hexadecimal HMAC-SHA256 of the raw body, keyed
/// with the site's API key (private apps, and webhooks made with an API key) or the app's client
/// secret (OAuth apps) (support.thinkific.dev "Using Webhooks", article 4422685850775; their sample
/// uses <c>OpenSSL::HMAC.hexdigest</c>). Nothing time-bound is signed, so there is no tolerance
/// window. The dedup key is the envelope's <c>id</c> (a string such as <c>20180126172320940835610</c>),
/// which names the webhook event, not the resource.
/// </summary>
public sealed class ThinkificProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Thinkific-Hmac-Sha256";
    public const string TopicHeader = "X-Thinkific-Topic";

    public string Name => "thinkific";

    public string Kind => State.ProviderKinds.Courses;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_thinkific_api_key_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-thinkific", Provider = "thinkific", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new ThinkificMapper();

    public IReadOnlyList<string> KeptHeaders { get; } =
        ["x-thinkific-hmac-sha256", "x-thinkific-topic", "x-thinkific-subdomain", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) =>
        secret.Trim().Length >= 16 ? null : "expected the site's API key or the app's client secret (at least 16 characters)";

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var header = request.Header(SignatureHeader);
        if (string.IsNullOrEmpty(header)) return SignatureCheck.Missing(SignatureHeader);
        var candidate = header.Trim();
        if (candidate.Length != 64 || !candidate.All(char.IsAsciiHexDigit))
        {
            return SignatureCheck.Malformed(SignatureHeader, "64 hexadecimal characters");
        }

        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = Signatures.HmacSha256(Encoding.UTF8.GetBytes(secret), "", request.Body.Span);
            matched |= Signatures.HexEquals(expected, candidate);
        }
        return matched ? SignatureCheck.Valid : SignatureCheck.Bad(SignatureHeader);
    }

    public string? DedupKey(WebhookRequest request) =>
        JsonProbe.TopLevelString(request.Body.Span, "id"u8) is { Length: > 0 } id ? id : null;
}
