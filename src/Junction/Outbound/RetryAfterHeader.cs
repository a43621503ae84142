using System.Globalization;
using System.Net.Http.Headers;

namespace Junction.Outbound;

/// <summary>
/// The one reading of "when may I ask again" for every outbound API (destinations and provider APIs):
/// Retry-After as delta seconds or as an HTTP-date (RFC 9110 §10.2.3), else a rate-limit reset header.
/// </summary>
public static class RetryAfterHeader
{
    /// <summary>Retry-After (delta seconds, or an HTTP-date measured against <paramref name="time"/>; a past date is zero), else the first of <paramref name="resetHeaders"/> that holds delta seconds (under a day).</summary>
    public static TimeSpan? Parse(HttpResponseHeaders? headers, TimeProvider time, IReadOnlyList<string>? resetHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (headers is null) return null;
        if (headers.RetryAfter is { } retry)
        {
            if (retry.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            if (retry.Date is { } date)
            {
                var wait = date - time.GetUtcNow();
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
        }
        foreach (var name in resetHeaders ?? [])
        {
            if (headers.TryGetValues(name, out var values)
                && double.TryParse(values.FirstOrDefault(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                && seconds is >= 0 and < 86_400)
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }
        return null;
    }
}
