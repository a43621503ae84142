using System.Security.Cryptography;
using System.Text;
using Junction.Config;

namespace Junction.Capture;

/// <summary>
/// The keys in <c>api_keys:</c>, for POST /v1/events. As with admin tokens only SHA-256 hashes are
/// held and compared in constant time over fixed-length hashes, so neither content nor length leaks.
/// </summary>
public sealed class ApiKeyAuth(JunctionConfig config)
{
    private readonly byte[][] _hashes = config.ApiKeys.Where(k => k.Length > 0).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    public bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        var ok = false;
        foreach (var hash in _hashes) ok |= CryptographicOperations.FixedTimeEquals(hash, presented);
        return ok;
    }
}
