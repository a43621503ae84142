using System.Globalization;
using System.Text;

namespace Junction.Providers.Paddle;

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

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("api_key", false, "a Paddle API key, to fetch the customer's email (transaction events carry only customer_id)"),
        new("api_base_url", false, "a URL; default https://api.paddle.com, https://sandbox-api.paddle.com for a sandbox account"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new PaddleMapper();

    public IProviderApi Api { get; } = new PaddleApi();

    public IReadOnlyList<string> KeptHeaders { get; } = ["paddle-signature", "paddle-version", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) => null;

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var header = request.Header(SignatureHeader);
        if (string.IsNullOrEmpty(header)) return SignatureCheck.Missing(SignatureHeader);

        long? timestamp = null;
        var signatures = new List<string>(2);
        foreach (var part in header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var key = part[..eq];
            var value = part[(eq + 1)..];
            if (key == "ts" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ts)) timestamp = ts;
            else if (key == "h1") signatures.Add(value);
        }
        if (timestamp is null || signatures.Count == 0)
        {
            return SignatureCheck.Malformed(SignatureHeader, "ts=<unix seconds>;h1=<hex signature>");
        }

        var prefix = timestamp.Value.ToString(CultureInfo.InvariantCulture) + ":";
        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = Signatures.HmacSha256(Encoding.UTF8.GetBytes(secret), prefix, request.Body.Span);
            foreach (var candidate in signatures)
            {
                matched |= Signatures.HexEquals(expected, candidate);
            }
        }
        if (!matched) return SignatureCheck.Bad(SignatureHeader);
        return Signatures.WithinTolerance(timestamp.Value, now, tolerance)
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(SignatureHeader, timestamp.Value, now, tolerance);
    }

    /// <summary>The event id (<c>evt_…</c>), the same on every retry; <c>notification_id</c> is per destination.</summary>
    public string? DedupKey(WebhookRequest request) => JsonProbe.TopLevelString(request.Body.Span, "event_id"u8);
}
