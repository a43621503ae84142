using System.Globalization;

namespace Junction.Canonical;

/// <summary>Amounts in minor units of their currency, exactly: decimal strings are never passed through double.</summary>
public static class Money
{
    // ISO 4217 currencies whose minor unit is not 2 digits.
    private static readonly Dictionary<string, int> Exponents = new(StringComparer.Ordinal)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0,
        ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0,
        ["XPF"] = 0, ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
        ["CLF"] = 4, ["UYW"] = 4,
    };

    /// <summary>ISO 4217 upper case, or null when it is not three letters.</summary>
    public static string? Currency(string? code)
    {
        if (string.IsNullOrWhiteSpace(code)) return null;
        var upper = code.Trim().ToUpperInvariant();
        return upper.Length == 3 && upper.All(char.IsAsciiLetterUpper) ? upper : null;
    }

    public static int Exponent(string currency) => Exponents.TryGetValue(currency, out var e) ? e : 2;

    /// <summary>Minor units as the exact major-unit amount (4900 USD → 49, 1500 JPY → 1500, 1234 BHD → 1.234).</summary>
    public static decimal ToMajor(long minor, string currency) => minor / Scale(currency);

    /// <summary>Minor units as a major-unit string with the currency's own digits ("49.00", "1500", "1.234").</summary>
    public static string FormatMajor(long minor, string currency) =>
        ToMajor(minor, currency).ToString("F" + Exponent(currency).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static decimal Scale(string currency) => (decimal)Math.Pow(10, Exponent(currency));

    /// <summary>
    /// A major-unit decimal string ("49.00", "-10.5") in minor units; null when it is not a number, or
    /// a number too large for minor units in a long (a signed body can say "99999999999999999999":
    /// the mapper then says the amount is not one, instead of throwing an overflow).
    /// </summary>
    public static long? FromMajor(string? amount, string currency)
    {
        if (string.IsNullOrWhiteSpace(amount)) return null;
        if (!decimal.TryParse(amount.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        var scale = Scale(currency);
        if (value >= long.MaxValue / scale || value <= long.MinValue / scale) return null;
        var scaled = value * scale;
        return decimal.Round(scaled) == scaled ? (long)scaled : (long)decimal.Round(scaled, MidpointRounding.AwayFromZero);
    }

    /// <summary>A minor-unit integer string ("4900"); null when it is not a whole number.</summary>
    public static long? FromMinor(string? amount) =>
        long.TryParse(amount?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
}
