using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Calendly;

/// <summary>
/// Calendly: <c>Calendly-Webhook-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;</c>, HMAC-SHA256 keyed with the
/// subscription's webhook signing key over <c>"{t}." + raw body</c>
/// (developer.calendly.com/docs/webhooks/overview, "Signature"). Any v1 matching any configured key
/// is enough, so a key can be rotated; the timestamp is checked after the signature, within the
/// source's tolerance. Calendly sends no event id: the event name and the invitee's URI
/// (<c>payload.uri</c>) name a delivery, and stay the same across Calendly's retries.
/// </summary>
public sealed class CalendlyProvider : IWebhookProvider
{
    public const string SignatureHeader = "Calendly-Webhook-Signature";

    public string Name => "calendly";

    public string Kind => State.ProviderKinds.Bookings;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_calendly_signing_key";

    public Config.SourceConfig? Demo => new() { Id = "demo-calendly", Provider = "calendly", Secrets = [DemoSecret] };

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("api_key", false, "a Calendly personal access token or OAuth token, to fetch the previous start time of a rescheduled booking"),
        new("api_base_url", false, "a URL; default https://api.calendly.com"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new CalendlyMapper();

    public IProviderApi Api { get; } = new CalendlyApi();

    public IReadOnlyList<string> KeptHeaders { get; } = ["calendly-webhook-signature", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) => null;

    private static readonly TimestampedScheme Scheme = new(SignatureHeader, ',', "t", "v1", ".");

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyTimestamped(request, Scheme, secrets, tolerance, now);

    /// <summary><c>{event}:{payload.uri}</c>: the invitee (or no-show) URI, one per booking and event.</summary>
    public string? DedupKey(WebhookRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object
                || !payload.TryGetProperty("uri", out var uri) || uri.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            return $"{name.GetString()}:{uri.GetString()}";
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
