using Junction.Providers;

namespace Junction.Integrations.Paddle;

/// <summary>
/// Paddle Billing: <c>Paddle-Signature: ts=&lt;unix&gt;;h1=&lt;hex&gt;</c>, where h1 is HMAC-SHA256 keyed
/// with the notification destination's secret over <c>"{ts}:{raw body}"</c>
/// (developer.paddle.com/webhooks/signature-verification). Any h1 matching any configured secret is
/// enough, so a secret can be rotated; the timestamp is checked after the signature, within the
/// source's tolerance (Paddle's SDKs allow 5 s; ours defaults to 300 s for clock skew and queues).
/// </summary>
public sealed class PaddleProvider : IWebhookProvider
{
    public const string SignatureHeader = "Paddle-Signature";

    public string Name => "paddle";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "pdl_ntfset_demo_paddle_secret";

    public Config.SourceConfig? Demo => new() { Id = "demo-paddle", Provider = "paddle", Secrets = [DemoSecret] };

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("api_key", false, "a Paddle API key, to fetch the customer's email (transaction events carry only customer_id)"),
        new("api_base_url", false, "a URL; default https://api.paddle.com, https://sandbox-api.paddle.com for a sandbox account"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new PaddleMapper();

    public IProviderApi Api { get; } = new PaddleApi();

    public IReadOnlyList<string> KeptHeaders { get; } = ["paddle-signature", "paddle-version", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) => null;

    private static readonly TimestampedScheme Scheme = new(SignatureHeader, ';', "ts", "h1", ":");

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyTimestamped(request, Scheme, secrets, tolerance, now);

    /// <summary>The event id (<c>evt_…</c>), the same on every retry; <c>notification_id</c> is per destination.</summary>
    public string? DedupKey(WebhookRequest request) => JsonProbe.TopLevelString(request.Body.Span, "event_id"u8);
}
