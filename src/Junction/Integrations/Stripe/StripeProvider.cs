using Junction.Providers;

namespace Junction.Integrations.Stripe;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=…]</c>, HMAC-SHA256 keyed with the whole
/// endpoint secret (including <c>whsec_</c>, not decoded) over <c>"{t}." + body</c>. During a secret
/// roll Stripe sends one v1 per active secret, so any match is enough (stripe-dotnet EventUtility).
/// </summary>
public sealed class StripeProvider : IWebhookProvider
{
    public const string SignatureHeader = "Stripe-Signature";

    public string Name => "stripe";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "whsec_demo_stripe_secret";

    public Config.SourceConfig? Demo => new() { Id = "demo-stripe", Provider = "stripe", Secrets = [DemoSecret] };

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("api_key", false, "a Stripe secret or restricted key (sk_… / rk_…) for enrichment and backfill"),
        new("api_base_url", false, "a URL; default https://api.stripe.com"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new StripeMapper();

    public IProviderApi Api { get; } = new StripeApi();

    public IReadOnlyList<string> KeptHeaders { get; } = ["stripe-signature", "user-agent", "content-type"];

    public string? ValidateSecret(string secret) =>
        secret.StartsWith("whsec_", StringComparison.Ordinal) ? null : "expected a Stripe endpoint secret starting with whsec_";

    private static readonly TimestampedScheme Scheme = new(SignatureHeader, ',', "t", "v1", ".");

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyTimestamped(request, Scheme, secrets, tolerance, now);

    public string? DedupKey(WebhookRequest request) => JsonProbe.TopLevelString(request.Body.Span, "id"u8);

    /// <summary>The header Stripe would send with <paramref name="body"/> (smoke runs and the demo's simulated traffic sign their own events).</summary>
    public static string Sign(string secret, long timestamp, byte[] body)
    {
        var t = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), (byte[])[.. System.Text.Encoding.UTF8.GetBytes(t + "."), .. body]);
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public ISimulatedPayments? Simulated { get; } = new StripeSimulatedPayments();
}
