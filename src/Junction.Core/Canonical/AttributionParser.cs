namespace Junction.Canonical;

/// <summary>Finds utm_* in a URL's query string or in a bag of key/values (checkout metadata, custom fields).</summary>
public static class AttributionParser
{
    public static Attribution? FromUrl(string? url, string? referrer = null)
    {
        if (string.IsNullOrWhiteSpace(url) && string.IsNullOrWhiteSpace(referrer)) return null;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var q = url?.IndexOf('?', StringComparison.Ordinal) ?? -1;
        if (url is not null && q >= 0)
        {
            var query = url[(q + 1)..];
            var hash = query.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) query = query[..hash];
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) continue;
                values[Uri.UnescapeDataString(pair[..eq].Replace('+', ' '))] = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        }
        var a = FromValues(values) ?? new Attribution();
        a = a with
        {
            LandingPage = string.IsNullOrWhiteSpace(url) ? a.LandingPage : url,
            Referrer = string.IsNullOrWhiteSpace(referrer) ? a.Referrer : referrer,
        };
        return a.IsEmpty ? null : a;
    }

    public static Attribution? FromValues(IReadOnlyDictionary<string, string> values)
    {
        string? Get(string key) => values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        var a = new Attribution
        {
            UtmSource = Get("utm_source"),
            UtmMedium = Get("utm_medium"),
            UtmCampaign = Get("utm_campaign"),
            UtmTerm = Get("utm_term"),
            UtmContent = Get("utm_content"),
            Referrer = Get("referrer"),
            LandingPage = Get("landing_page"),
        };
        return a.IsEmpty ? null : a;
    }
}
