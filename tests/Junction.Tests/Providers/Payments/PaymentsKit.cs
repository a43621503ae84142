using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Tests.Providers.Payments;

/// <summary>
/// Signing written from each provider's description with <see cref="HMACSHA256"/> (not Junction's
/// helpers), plus builders for requests and raw inputs.
/// </summary>
internal static class PaymentsKit
{
    public static readonly DateTimeOffset Received = new(2026, 11, 20, 16, 0, 0, TimeSpan.Zero);

    public static byte[] Hmac(string secret, string message)
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        return hmac.ComputeHash(Encoding.UTF8.GetBytes(message));
    }

    /// <summary>Lemon Squeezy X-Signature: lowercase hex HMAC-SHA256(secret, body).</summary>
    public static string LemonSqueezy(string secret, string body) => Convert.ToHexStringLower(Hmac(secret, body));

    /// <summary>Paddle-Signature: ts=…;h1=hex HMAC-SHA256(secret, "{ts}:{body}"), one h1 per secret given.</summary>
    public static string Paddle(long ts, string body, params string[] secrets)
    {
        var t = ts.ToString(CultureInfo.InvariantCulture);
        return $"ts={t}" + string.Concat(secrets.Select(s => ";h1=" + Convert.ToHexStringLower(Hmac(s, $"{t}:{body}"))));
    }

    /// <summary>WooCommerce X-WC-Webhook-Signature: base64 HMAC-SHA256(secret, body).</summary>
    public static string WooCommerce(string secret, string body) => Convert.ToBase64String(Hmac(secret, body));

    /// <summary>A form body encoded as Gumroad's HTTParty to_params + ERB url_encode does: literal brackets in keys.</summary>
    public static string Form(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => f.Key + "=" + Uri.EscapeDataString(f.Value)));

    public static WebhookRequest Request(string body, IReadOnlyDictionary<string, string>? query = null, params (string Name, string Value)[] headers)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers) map[name] = value;
        return new WebhookRequest(Encoding.UTF8.GetBytes(body), name => map.TryGetValue(name, out var v) ? v : null)
        {
            Query = query is null ? null : name => query.TryGetValue(name, out var v) ? v : null,
        };
    }

    public static RawInput Raw(string provider, string body, string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null, bool canEnrich = false, IReadOnlyDictionary<string, string>? enrichment = null) => new()
    {
        RawId = "raw-1",
        Source = provider + "-main",
        Provider = provider,
        Body = Encoding.UTF8.GetBytes(body),
        Headers = headers ?? new Dictionary<string, string>(),
        ContentType = contentType,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        ReceivedAt = Received,
        DedupKey = "k",
        CanEnrich = canEnrich,
        Enrichment = (enrichment ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key, kv => JsonDocument.Parse(kv.Value).RootElement),
    };

    public static CanonicalEvent Single(MapResult result) =>
        Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);

    public static IReadOnlyList<CanonicalEvent> Events(MapResult result) =>
        Assert.IsType<MapResult.Mapped>(result).Events;
}
