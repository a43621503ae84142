using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.LemonSqueezy;

/// <summary>
/// Lemon Squeezy: <c>X-Signature</c> is the lowercase hex HMAC-SHA256 of the raw body keyed with the
/// webhook's signing secret (docs.lemonsqueezy.com/help/webhooks/signing-requests). Nothing
/// time-bound is signed, so there is no tolerance window. Several secrets may be configured while a
/// secret is being changed. No event id is sent: the dedup key is the event name and the resource's
/// type, id and <c>updated_at</c>.
/// </summary>
public sealed class LemonSqueezyProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Signature";
    public const string EventHeader = "X-Event-Name";

    public string Name => "lemonsqueezy";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_lemonsqueezy_secret";

    public Config.SourceConfig? Demo => new() { Id = "demo-lemonsqueezy", Provider = "lemonsqueezy", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new LemonSqueezyMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["x-signature", "x-event-name", "content-type", "user-agent"];

    // The dashboard accepts signing secrets of 6 to 40 characters.
    public string? ValidateSecret(string secret) =>
        secret.Length is >= 6 and <= 40 ? null : "expected the webhook's signing secret (6 to 40 characters)";

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyBodyHmac(request, SignatureHeader, secrets, Signatures.Encoding64.Hex);

    public string? DedupKey(WebhookRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var id = Text(data, "id");
            if (id is null) return null;
            var name = request.Header(EventHeader)
                ?? (root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object ? Text(meta, "event_name") : null);
            var updated = data.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object ? Text(a, "updated_at") : null;
            return $"{name}:{Text(data, "type")}:{id}:{updated}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;
}
