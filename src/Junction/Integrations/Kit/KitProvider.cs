using System.Security.Cryptography;
using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Kit;

/// <summary>
/// Kit (ConvertKit) runs two webhook systems, told apart by the signature header.
/// Webhook endpoints (developers.kit.com/webhooks/verifying-signatures): <c>X-Kit-Signature:
/// t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=…]</c>, hex HMAC-SHA256 keyed with the endpoint secret over
/// <c>"{t}." + raw body</c>, one v1 per valid secret while rotating, stale after about 5 minutes.
/// Legacy rule webhooks (/v4/webhooks, v3 docs) sign nothing: they are authenticated by a secret
/// token in the hook URL, and say nothing in the body about which rule fired, so the rule's event
/// (and its tag/form/sequence id) travel in the URL too:
/// <c>/v1/hooks/{source}?token=…&amp;event=subscriber.tag_add&amp;tag_id=123</c>.
/// </summary>
public sealed class KitProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Kit-Signature";
    public const string DeliveryHeader = "X-Kit-Delivery";
    public const string EventParameter = "event";

    /// <summary>Rule parameters a legacy hook URL may carry (Kit's own names for them).</summary>
    public static readonly IReadOnlyList<string> RuleParameters = ["tag_id", "form_id", "sequence_id", "product_id"];

    public string Name => "kit";

    public string Kind => State.ProviderKinds.Email;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_kit_token_01234567";

    public Config.SourceConfig? Demo => new() { Id = "demo-kit", Provider = "kit", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new KitMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["x-kit-signature", "x-kit-delivery", "content-type", "user-agent"];

    // One list serves both systems: an endpoint's signing secret, and the URL token of legacy rules.
    public string? ValidateSecret(string secret)
    {
        if (secret.Length < UrlToken.MinLength) return $"expected a Kit endpoint secret or a random URL token of at least {UrlToken.MinLength} characters";
        return secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "expected no spaces or control characters" : null;
    }

    private static readonly TimestampedScheme Scheme = new(SignatureHeader, ',', "t", "v1", ".");

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var header = request.Header(SignatureHeader);
        // A request that carries a signature is judged by it alone, never by a URL token as well.
        if (string.IsNullOrEmpty(header))
        {
            var legacy = UrlToken.Check(request, secrets);
            return legacy.Failure == SignatureFailure.MissingSignature
                ? new SignatureCheck(SignatureFailure.MissingSignature,
                    $"header {SignatureHeader} is missing, and so is query parameter {UrlToken.Parameter} (for Kit's unsigned legacy webhooks)")
                : legacy;
        }

        return Signatures.VerifyTimestamped(request, Scheme, secrets, tolerance, now);
    }

    /// <summary>
    /// Endpoint deliveries: <c>delivery:{delivery_id}</c> (a retry reuses it and re-sends the same
    /// events; each event's own UUID is its canonical fact key). Legacy webhooks have no id at all:
    /// <c>legacy:{event}:{rule}:{sha256 of body}</c>, with the event and rule from the URL, because
    /// one signup fires several rules with byte-identical bodies. The mapper reads the event back from
    /// this key, the only per-request fact that outlives the URL.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        var signed = !string.IsNullOrEmpty(request.Header(SignatureHeader));
        try
        {
            var reader = new Utf8JsonReader(request.Body.Span);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("events", out var events))
            {
                if (root.TryGetProperty("delivery_id", out var id) && id.ValueKind is JsonValueKind.Number or JsonValueKind.String)
                {
                    return "delivery:" + id.ToString().Trim();
                }
                if (request.Header(DeliveryHeader) is { Length: > 0 } header) return "delivery:" + header.Trim();
                return events.ValueKind == JsonValueKind.Array
                    ? "events:" + string.Join(',', events.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("id", out var eid) ? eid.ToString() : ""))
                    : null;
            }
        }
        catch (JsonException)
        {
            return null; // kept under its body hash, and quarantined by normalization with the reason
        }
        return signed ? null : LegacyKey(request.QueryValue(EventParameter), Rule(request), request.Body.Span);
    }

    internal static string LegacyKey(string? kitEvent, string rule, ReadOnlySpan<byte> body) =>
        $"legacy:{Uri.EscapeDataString(kitEvent?.Trim() ?? "")}:{rule}:{Convert.ToHexStringLower(SHA256.HashData(body))}";

    private static string Rule(WebhookRequest request)
    {
        foreach (var name in RuleParameters)
        {
            if (request.QueryValue(name) is { Length: > 0 } value) return $"{name}={Uri.EscapeDataString(value.Trim())}";
        }
        return "";
    }
}
