using Junction.Canonical;

namespace Junction.Integrations.PayPal;

/// <summary>
/// What Junction reads from PayPal's merchant-set field (REST <c>custom_id</c>, IPN <c>custom</c>):
/// a query string (<c>purchase_token=jt_1&amp;utm_source=ig</c>) gives the purchase token
/// (<c>purchase_token</c>, else <c>junction_token</c>, else <c>token</c>) and any <c>utm_*</c>;
/// anything else is taken whole as the purchase token the landing page put on the checkout.
/// </summary>
internal static class PayPalCustom
{
    public static (string? PurchaseToken, Attribution? Attribution) Parse(string? custom)
    {
        if (string.IsNullOrWhiteSpace(custom)) return (null, null);
        var text = custom.Trim();
        if (!text.Contains('=', StringComparison.Ordinal)) return (text, null);

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in text.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            values[Unescape(pair[..eq])] = Unescape(pair[(eq + 1)..]);
        }
        string? Get(string key) => values.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        return (Get("purchase_token") ?? Get("junction_token") ?? Get("token"), AttributionParser.FromValues(values));
    }

    /// <summary>
    /// The merchant-set field as an id for <c>related_ids</c>: plain text (often the shop's own order
    /// id) is an id; a query string of tokens and utm_* is not, and is only parsed.
    /// </summary>
    public static string? Id(string? custom) =>
        string.IsNullOrWhiteSpace(custom) || custom.Contains('=', StringComparison.Ordinal) ? null : custom.Trim();

    private static string Unescape(string s)
    {
        try
        {
            return Uri.UnescapeDataString(s.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return s;
        }
    }
}
