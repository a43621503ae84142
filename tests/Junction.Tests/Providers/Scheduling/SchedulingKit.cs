using System.Globalization;
using System.Security.Cryptography;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Scheduling;

/// <summary>Signing written from each provider's description with <see cref="HMACSHA256"/>, not Junction's helpers.</summary>
internal static class SchedulingKit
{
    /// <summary>Calendly-Webhook-Signature: t=…,v1=hex HMAC-SHA256(signing key, "{t}.{body}").</summary>
    public static string Calendly(string key, long t, string body)
    {
        var ts = t.ToString(CultureInfo.InvariantCulture);
        return $"t={ts},v1={Convert.ToHexStringLower(PaymentsKit.Hmac(key, $"{ts}.{body}"))}";
    }

    /// <summary>X-Acuity-Signature: base64 HMAC-SHA256(API key, body).</summary>
    public static string Acuity(string apiKey, string body) => Convert.ToBase64String(PaymentsKit.Hmac(apiKey, body));

    /// <summary>x-zm-signature: v0=hex HMAC-SHA256(secret token, "v0:{timestamp}:{body}").</summary>
    public static string Zoom(string secretToken, long timestamp, string body) =>
        "v0=" + Convert.ToHexStringLower(PaymentsKit.Hmac(secretToken, $"v0:{timestamp.ToString(CultureInfo.InvariantCulture)}:{body}"));

    public static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>The wall-clock time of an instant in an IANA zone (tzdata), to check a UTC time against the zone it was booked in.</summary>
    public static DateTime Local(DateTimeOffset utc, string zone) =>
        TimeZoneInfo.ConvertTime(utc, TimeZoneInfo.FindSystemTimeZoneById(zone)).DateTime;

    public static string Form(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));
}
