using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.WooCommerce;

/// <summary>
/// WooCommerce: <c>X-WC-Webhook-Signature</c> is the base64 HMAC-SHA256 of the raw body keyed with
/// the webhook's secret (woocommerce <c>includes/class-wc-webhook.php</c>, <c>generate_signature</c>).
/// Nothing time-bound is signed. When a webhook is created, WooCommerce first posts the form body
/// <c>webhook_id=N</c> with no signature (<c>deliver_ping</c>) and keeps the webhook pending until it
/// gets a 200: answered here, stored nowhere. Every delivery attempt gets a new
/// <c>X-WC-Webhook-Delivery-ID</c>, so the dedup key is built from the resource's state instead.
/// </summary>
public sealed partial class WooCommerceProvider : IWebhookProvider, IWebhookHandshake
{
    public const string SignatureHeader = "X-WC-Webhook-Signature";
    public const string TopicHeader = "X-WC-Webhook-Topic";

    public string Name => "woocommerce";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_woocommerce_secret";

    public Config.SourceConfig? Demo => new() { Id = "demo-woocommerce", Provider = "woocommerce", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new WooCommerceMapper();

    public IReadOnlyList<string> KeptHeaders { get; } =
    [
        "x-wc-webhook-signature", "x-wc-webhook-topic", "x-wc-webhook-resource", "x-wc-webhook-event", "x-wc-webhook-id",
        "x-wc-webhook-delivery-id", "x-wc-webhook-source", "content-type", "user-agent",
    ];

    public string? ValidateSecret(string secret) => null;

    public HandshakeReply? Handshake(WebhookRequest request, SourceConfig source)
    {
        if (!string.IsNullOrEmpty(request.Header(SignatureHeader)) || request.Body.Length > 64) return null;
        return PingBody().IsMatch(Encoding.UTF8.GetString(request.Body.Span))
            ? new HandshakeReply(200, "text/plain", "ok")
            : null;
    }

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyBodyHmac(request, SignatureHeader, secrets, Signatures.Encoding64.Base64);

    /// <summary>
    /// Topic + resource id + <c>date_modified_gmt</c> + <c>status</c>: a new state of the order is a new
    /// key, a resend of the same state is not. Status is included because two changes within one
    /// second share <c>date_modified_gmt</c>.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        var topic = request.Header(TopicHeader);
        if (string.IsNullOrWhiteSpace(topic)) return null;
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id)) return null;
            return $"{topic.Trim()}:{id.GetRawText().Trim('"')}:{Text(root, "date_modified_gmt")}:{Text(root, "status")}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    [GeneratedRegex(@"^webhook_id=\d+$")]
    private static partial Regex PingBody();
}
