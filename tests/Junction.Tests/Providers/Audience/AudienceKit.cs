using System.Globalization;
using Junction.Normalize;
using Junction.Providers;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Audience;

/// <summary>Signing and request/raw builders for the email-platform sources, written from each provider's description.</summary>
internal static class AudienceKit
{
    public const string Form = "application/x-www-form-urlencoded";

    /// <summary>X-Kit-Signature: t=…,v1=hex HMAC-SHA256(secret, "{t}.{body}"), one v1 per secret given.</summary>
    public static string Kit(long t, string body, params string[] secrets)
    {
        var ts = t.ToString(CultureInfo.InvariantCulture);
        return $"t={ts}" + string.Concat(secrets.Select(s => ",v1=" + Convert.ToHexStringLower(PaymentsKit.Hmac(s, $"{ts}.{body}"))));
    }

    public static Dictionary<string, string> Query(string query) =>
        query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "", StringComparer.Ordinal);

    /// <summary>The raw event intake would store for this request: the dedup key comes from the provider, as at intake.</summary>
    public static RawInput Raw(IWebhookProvider provider, string body, string contentType = "application/json", string query = "",
        params (string Name, string Value)[] headers)
    {
        var request = PaymentsKit.Request(body, Query(query), headers);
        var headerMap = headers.ToDictionary(h => h.Name.ToLowerInvariant(), h => h.Value, StringComparer.Ordinal);
        return PaymentsKit.Raw(provider.Name, body, contentType, headerMap) with
        {
            DedupKey = provider.DedupKey(request) ?? "sha256:test",
        };
    }
}
