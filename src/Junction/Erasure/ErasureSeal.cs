using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;

namespace Junction.Erasure;

/// <summary>
/// Salted hashes and sealed addresses for erasures. Kit and Teachable find a contact only by its
/// address, so a destination deletion still queued after the person is gone carries the addresses
/// sealed (AES-GCM) with a key kept on the erasure row; the key is dropped when every deletion of
/// the erasure succeeded, which leaves the sealed copies unreadable (crypto-shredding).
/// </summary>
public static class ErasureSeal
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>A fresh random key (base64), or the install's salt.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>HMAC-SHA256 of a normalized address with the install's salt, hex: equal addresses give equal hashes, nothing else is learned.</summary>
    public static string Hash(string salt, string normalizedEmail) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Convert.FromBase64String(salt), Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>The payload of an erase delivery: the addresses sealed with <paramref name="key"/>.</summary>
    public static string SealPayload(string key, IReadOnlyList<string> emails)
    {
        var plain = Encoding.UTF8.GetBytes(string.Join('\n', emails));
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        using (var aes = new AesGcm(Convert.FromBase64String(key), TagSize))
        {
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length));
        }
        nonce.CopyTo(sealedBytes, 0);
        return new JsonObject { ["sealed"] = Convert.ToBase64String(sealedBytes), ["count"] = emails.Count }.ToJsonString();
    }

    /// <summary>
    /// Opens an erase delivery's payload. A shredded key (every deletion had succeeded: a replay of one)
    /// or a damaged payload is a <see cref="JsonException"/>, which the dispatcher dead-letters as unreadable.
    /// </summary>
    public static ContactErasure OpenPayload(string erasureId, string payload, string? key)
    {
        if (key is null) throw new JsonException($"erasure {erasureId}: its key was shredded once every destination confirmed; the addresses are gone");
        var sealedText = (JsonNode.Parse(payload) as JsonObject)?["sealed"]?.GetValue<string>()
            ?? throw new JsonException($"erasure {erasureId}: the payload has no sealed addresses");
        var bytes = Convert.FromBase64String(sealedText);
        if (bytes.Length < NonceSize + TagSize) throw new JsonException($"erasure {erasureId}: the sealed addresses are truncated");
        var plain = new byte[bytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(Convert.FromBase64String(key), TagSize);
            aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize, plain.Length), bytes.AsSpan(NonceSize + plain.Length), plain);
        }
        catch (CryptographicException ex)
        {
            throw new JsonException($"erasure {erasureId}: the sealed addresses do not open with its key", ex);
        }
        var emails = Encoding.UTF8.GetString(plain).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return new ContactErasure { ErasureId = erasureId, Emails = [.. emails.Order(StringComparer.Ordinal)] };
    }
}
