using System.Security.Cryptography;
using System.Text;

namespace Junction.Admin;

/// <summary>
/// A set of bearer secrets (admin tokens, API keys, the metrics token). Only their SHA-256 hashes are
/// held, and the comparison is over fixed-length hashes in constant time against every one, so neither
/// a secret's content, its length nor which one matched leaks through timing.
/// </summary>
public sealed class BearerTokens(IEnumerable<string> secrets)
{
    private readonly byte[][] _hashes = secrets.Where(s => s.Length > 0).Select(s => SHA256.HashData(Encoding.UTF8.GetBytes(s))).ToArray();

    public bool IsEmpty => _hashes.Length == 0;

    public bool Authorizes(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Matches(header["Bearer ".Length..].Trim());
    }

    /// <summary>Whether <paramref name="secret"/> is one of the set (a token typed into the dashboard's sign-in form).</summary>
    public bool Matches(string secret)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        var ok = false;
        foreach (var hash in _hashes) ok |= CryptographicOperations.FixedTimeEquals(hash, presented);
        return ok;
    }
}
