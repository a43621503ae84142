using System.Text.RegularExpressions;

namespace Junction.Observability;

/// <summary>
/// The one way an email address is shown where it must not be read back (log lines, stored error
/// text, problem details): first letter of each part, e.g. <c>j***@e***.com</c>. A destination's
/// error often quotes the address it refused (Mailchimp: "x@y.com was permanently deleted …"),
/// so text from outside goes through <see cref="Redact"/> before it is stored or logged.
/// </summary>
public static partial class Pii
{
    /// <summary>One address (or what was meant to be one) masked; the top-level domain is kept.</summary>
    public static string MaskEmail(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at == 0 || email.Length <= 1) return "*";
        if (at < 0) return email[0] + "***";
        var domain = email[(at + 1)..];
        var dot = domain.LastIndexOf('.');
        var masked = domain.Length == 0 ? "" : dot > 0 ? domain[0] + "***" + Clip(domain[dot..]) : domain[0] + "***";
        return email[0] + "***@" + masked;
    }

    /// <summary><paramref name="text"/> with everything email-shaped in it masked; null stays null.</summary>
    public static string? Redact(string? text) =>
        text is null || !text.Contains('@', StringComparison.Ordinal) ? text : EmailShaped().Replace(text, m => MaskEmail(m.Value));

    private static string Clip(string s) => s.Length > 12 ? s[..12] : s;

    // Loose on purpose: anything that could be an address is masked, valid or not.
    [GeneratedRegex(@"[^\s@""'<>(),;:\[\]\\]+@[^\s@""'<>(),;:\[\]\\]+", RegexOptions.CultureInvariant)]
    private static partial Regex EmailShaped();
}
