
namespace Junction.Providers.Shopify;

/// <summary>
/// Shopify: <c>X-Shopify-Hmac-Sha256</c> is the base64 HMAC-SHA256 of the raw body keyed with the
/// app's client secret. Nothing time-bound is signed, so there is no tolerance window; retries are
/// recognised by <c>X-Shopify-Webhook-Id</c>, which stays the same across redeliveries.
/// </summary>
public sealed class ShopifyProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Shopify-Hmac-Sha256";
    public const string WebhookIdHeader = "X-Shopify-Webhook-Id";

    public string Name => "shopify";

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

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyBodyHmac(request, SignatureHeader, secrets, Signatures.Encoding64.Base64);

    public string? DedupKey(WebhookRequest request)
    {
        var id = request.Header(WebhookIdHeader);
        return string.IsNullOrWhiteSpace(id) ? null : id.Trim();
    }
}
