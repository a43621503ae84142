using System.Security.Cryptography;
using System.Text;

namespace Junction.Providers;

/// <summary>The HMAC and constant-time comparison pieces the provider schemes share.</summary>
internal static class Signatures
{
    /// <summary>HMAC-SHA256 over <paramref name="prefix"/> followed by the body, without copying the body.</summary>
    public static byte[] HmacSha256(ReadOnlySpan<byte> key, string prefix, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        if (prefix.Length > 0) hmac.AppendData(Encoding.UTF8.GetBytes(prefix));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    /// <summary>True when <paramref name="candidate"/> (hex text) equals <paramref name="expected"/>; constant time in the content.</summary>
    public static bool HexEquals(byte[] expected, ReadOnlySpan<char> candidate)
    {
        if (candidate.Length != expected.Length * 2) return false;
        Span<byte> decoded = stackalloc byte[expected.Length];
        if (Convert.FromHexString(candidate, decoded, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != expected.Length)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(decoded, expected);
    }

    /// <summary>True when <paramref name="candidate"/> (base64 text) equals <paramref name="expected"/>; constant time in the content.</summary>
    public static bool Base64Equals(byte[] expected, ReadOnlySpan<char> candidate)
    {
        Span<byte> decoded = stackalloc byte[64];
        if (!Convert.TryFromBase64Chars(candidate, decoded, out var written) || written != expected.Length) return false;
        return CryptographicOperations.FixedTimeEquals(decoded[..written], expected);
    }

    public static bool WithinTolerance(long unixSeconds, DateTimeOffset now, TimeSpan tolerance) =>
        Math.Abs(now.ToUnixTimeSeconds() - unixSeconds) <= (long)tolerance.TotalSeconds;

    public enum Encoding64
    {
        Hex,
        Base64,
    }

    /// <summary>
    /// The plain scheme: one header holding the HMAC-SHA256 of the raw body (hex or base64), keyed with
    /// a configured secret as UTF-8; any secret may match (rotation). Nothing time-bound is signed.
    /// </summary>
    public static SignatureCheck VerifyBodyHmac(WebhookRequest request, string header, IReadOnlyList<string> secrets, Encoding64 encoding)
    {
        var value = request.Header(header);
        if (string.IsNullOrEmpty(value)) return SignatureCheck.Missing(header);
        var candidate = value.AsSpan().Trim();
        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = HmacSha256(Encoding.UTF8.GetBytes(secret), "", request.Body.Span);
            matched |= encoding == Encoding64.Hex ? HexEquals(expected, candidate) : Base64Equals(expected, candidate);
        }
        return matched ? SignatureCheck.Valid : SignatureCheck.Bad(header);
    }

    /// <summary>
    /// The timestamped scheme (Stripe, Calendly, Paddle): a header of <c>key=value</c> pairs with a
    /// Unix-seconds timestamp and one or more hex signatures over <c>{timestamp}{joiner}{body}</c>;
    /// any signature may match any secret. The timestamp is checked after the signature, so a
    /// forged header cannot probe the clock.
    /// </summary>
    public static SignatureCheck VerifyTimestamped(WebhookRequest request, TimestampedScheme scheme, IReadOnlyList<string> secrets,
        TimeSpan tolerance, DateTimeOffset now)
    {
        var header = request.Header(scheme.Header);
        if (string.IsNullOrEmpty(header)) return SignatureCheck.Missing(scheme.Header);

        long? timestamp = null;
        var signatures = new List<string>(2);
        foreach (var part in header.Split(scheme.Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var key = part[..eq];
            var value = part[(eq + 1)..];
            if (key == scheme.TimestampKey
                && long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (key == scheme.SignatureKey)
            {
                signatures.Add(value);
            }
        }
        if (timestamp is null || signatures.Count == 0)
        {
            return SignatureCheck.Malformed(scheme.Header,
                $"{scheme.TimestampKey}=<unix seconds>{scheme.Separator}{scheme.SignatureKey}=<hex signature>");
        }

        var prefix = timestamp.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + scheme.Joiner;
        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = HmacSha256(Encoding.UTF8.GetBytes(secret), prefix, request.Body.Span);
            foreach (var candidate in signatures) matched |= HexEquals(expected, candidate);
        }
        if (!matched) return SignatureCheck.Bad(scheme.Header);
        return WithinTolerance(timestamp.Value, now, tolerance)
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(scheme.Header, timestamp.Value, now, tolerance);
    }
}

/// <summary>How a timestamped signature header is laid out (see <see cref="Signatures.VerifyTimestamped"/>).</summary>
internal sealed record TimestampedScheme(string Header, char Separator, string TimestampKey, string SignatureKey, string Joiner);
