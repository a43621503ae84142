using System.Globalization;
using System.Text;

namespace Junction.Providers.Stripe;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=…]</c>, HMAC-SHA256 keyed with the whole
/// endpoint secret (including <c>whsec_</c>, not decoded) over <c>"{t}." + body</c>. During a secret
/// roll Stripe sends one v1 per active secret, so any match is enough (stripe-dotnet EventUtility).
/// </summary>
public sealed class StripeProvider : IWebhookProvider
{
    public const string SignatureHeader = "Stripe-Signature";

    public string Name => "stripe";

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

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var header = request.Header(SignatureHeader);
        if (string.IsNullOrEmpty(header)) return SignatureCheck.Missing(SignatureHeader);

        long? timestamp = null;
        var signatures = new List<string>(2);
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var key = part[..eq];
            var value = part[(eq + 1)..];
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t)) timestamp = t;
            else if (key == "v1") signatures.Add(value);
        }
        if (timestamp is null || signatures.Count == 0)
        {
            return SignatureCheck.Malformed(SignatureHeader, "t=<unix seconds>,v1=<hex signature>");
        }

        var prefix = timestamp.Value.ToString(CultureInfo.InvariantCulture) + ".";
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
        // Checked after the signature, as Stripe's SDK does, so a forged header cannot probe the clock.
        return Signatures.WithinTolerance(timestamp.Value, now, tolerance)
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(SignatureHeader, timestamp.Value, now, tolerance);
    }

    public string? DedupKey(WebhookRequest request) => JsonProbe.TopLevelString(request.Body.Span, "id"u8);
}
