using System.Text;

namespace Junction.Integrations.PayPal;

/// <summary>
/// An IPN body's fields, decoded in the character set the message names. PayPal percent-encodes
/// the bytes of its <c>charset</c> field's encoding (windows-1252 unless the account chose another,
/// IPN and PDT variables), so decoding as UTF-8 would garble every non-ASCII name.
/// </summary>
internal static class IpnForm
{
    /// <summary>Fields as sent (last value wins); throws <see cref="ArgumentException"/> for a character set .NET does not know.</summary>
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> body, string? contentTypeCharset = null)
    {
        var pairs = new List<(byte[] Key, byte[] Value)>();
        foreach (var range in body.Split((byte)'&'))
        {
            var pair = body[range];
            if (pair.IsEmpty) continue;
            var eq = pair.IndexOf((byte)'=');
            pairs.Add(eq < 0 ? (Unescape(pair), []) : (Unescape(pair[..eq]), Unescape(pair[(eq + 1)..])));
        }
        string? charset = null;
        foreach (var (key, value) in pairs)
        {
            if (Encoding.Latin1.GetString(key) == "charset") charset = Encoding.Latin1.GetString(value).Trim();
        }
        var encoding = Resolve(charset ?? contentTypeCharset);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs) fields[encoding.GetString(key)] = encoding.GetString(value);
        return fields;
    }

    /// <summary>The encoding for an IPN charset name; windows-1252 (PayPal's default) when none is named.</summary>
    public static Encoding Resolve(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset)) return CodePagesEncodingProvider.Instance.GetEncoding(1252)!;
        try
        {
            return Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(charset)
                ?? throw new ArgumentException($"unknown character set '{charset}'", nameof(charset));
        }
    }

    private static byte[] Unescape(ReadOnlySpan<byte> encoded)
    {
        var result = new byte[encoded.Length];
        var n = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var b = encoded[i];
            if (b == (byte)'+')
            {
                result[n++] = (byte)' ';
            }
            else if (b == (byte)'%' && i + 2 < encoded.Length && IsHex(encoded[i + 1]) && IsHex(encoded[i + 2]))
            {
                result[n++] = (byte)((Hex(encoded[i + 1]) << 4) | Hex(encoded[i + 2]));
                i += 2;
            }
            else
            {
                result[n++] = b;
            }
        }
        return result[..n];
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int Hex(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
