using System.Text;

namespace Junction.Canonical;

public static class Identifiers
{
    /// <summary>Trimmed and lower-cased; null when it is not an address at all. Plus-addresses are kept as they are.</summary>
    public static string? NormalizeEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email)) return null;
        var trimmed = email.Trim().ToLowerInvariant();
        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at < trimmed.Length - 1 && trimmed.IndexOf('@', at + 1) < 0 && !trimmed.Contains(' ', StringComparison.Ordinal)
            ? trimmed
            : null;
    }

    /// <summary>E.164 (<c>+</c> and 8–15 digits) when the number carries its country code; null otherwise.</summary>
    public static string? NormalizePhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone)) return null;
        var digits = new StringBuilder();
        var trimmed = phone.Trim();
        var international = trimmed.StartsWith('+') || trimmed.StartsWith("00", StringComparison.Ordinal);
        foreach (var c in trimmed.StartsWith("00", StringComparison.Ordinal) ? trimmed[2..] : trimmed)
        {
            if (char.IsAsciiDigit(c)) digits.Append(c);
            else if (c is not (' ' or '-' or '(' or ')' or '.' or '+')) return null;
        }
        return international && digits.Length is >= 8 and <= 15 ? "+" + digits : null;
    }
}
