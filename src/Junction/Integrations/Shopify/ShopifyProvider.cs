using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Shopify;

/// <summary>
/// Shopify: <c>X-Shopify-Hmac-Sha256</c> is the base64 HMAC-SHA256 of the raw body keyed with the
/// app's client secret. Nothing time-bound is signed, so there is no tolerance window. Only the body
/// is signed, so the <c>X-Shopify-Topic</c> header must agree with it (<see cref="ShopifyBody"/>) and
/// the dedup key comes from the body, not from the unsigned <c>X-Shopify-Webhook-Id</c>.
/// </summary>
public sealed class ShopifyProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Shopify-Hmac-Sha256";
    public const string WebhookIdHeader = "X-Shopify-Webhook-Id";
    public const string TopicHeader = "X-Shopify-Topic";

    public string Name => "shopify";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_shopify_secret";

    public Config.SourceConfig? Demo => new() { Id = "demo-shopify", Provider = "shopify", Secrets = [DemoSecret] };

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("api_key", false, "an Admin API access token (shpat_…) for backfill"),
        new("api_base_url", false, "the shop's URL, e.g. https://creator.myshopify.com (needed with api_key)"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new ShopifyMapper();

    public IProviderApi Api { get; } = new ShopifyApi();

    public IReadOnlyList<string> KeptHeaders { get; } =
    [
        "x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id",
        "x-shopify-event-id", "x-shopify-triggered-at", "x-shopify-api-version", "content-type", "user-agent",
    ];

    public string? ValidateSecret(string secret) => null;

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var check = Signatures.VerifyBodyHmac(request, SignatureHeader, secrets, Signatures.Encoding64.Base64);
        if (!check.IsValid) return check;
        // Without a topic the mapper quarantines the event with a reason; there is no meaning to forge.
        if (Topic(request) is not { } topic || Parse(request) is not { } body) return check;
        return ShopifyBody.TopicMismatch(topic, body) is { } mismatch
            ? new SignatureCheck(SignatureFailure.HeaderMismatch, $"header {TopicHeader} '{topic}' does not match the signed body: {mismatch}")
            : check;
    }

    public string? DedupKey(WebhookRequest request)
    {
        if (Topic(request) is not { } topic || Parse(request) is not { } body) return null; // intake keys it by the body's hash
        return ShopifyBody.DedupKey(topic, body, request.Body.Span);
    }

    private static string? Topic(WebhookRequest request) => request.Header(TopicHeader)?.Trim() is { Length: > 0 } t ? t : null;

    private static JsonElement? Parse(WebhookRequest request)
    {
        // System.Text.Json checks UTF-8 only in the strings it reads, and then throws: a signed body
        // that is not UTF-8 is kept as sent and normalization quarantines it with the byte it is at.
        if (!System.Text.Unicode.Utf8.IsValid(request.Body.Span)) return null;
        try
        {
            using var document = JsonDocument.Parse(request.Body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null; // not JSON: the mapper quarantines it
        }
    }
}
