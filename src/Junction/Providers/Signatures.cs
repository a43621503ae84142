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
}
