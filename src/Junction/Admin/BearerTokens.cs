using System.Security.Cryptography;
using System.Text;

namespace Junction.Admin;

/// <summary>
/// A set of bearer secrets (admin tokens, API keys, the metrics token). Only their SHA-256 hashes are
/// held, and the comparison is over fixed-length hashes in constant time against every one, so neither
/// a secret's content, its length nor which one matched leaks through timing.
/// </summary>
public sealed class BearerTokens
{
    private readonly byte[][] _hashes;
    private readonly int[] _positions;

    public BearerTokens(IEnumerable<string> secrets)
    {
        // Positions are kept so Match names the secret by its place in the list given, empty ones included.
        var kept = secrets.Select((s, i) => (Secret: s, Position: i)).Where(p => p.Secret.Length > 0).ToArray();
        _hashes = kept.Select(p => SHA256.HashData(Encoding.UTF8.GetBytes(p.Secret))).ToArray();
        _positions = kept.Select(p => p.Position).ToArray();
    }

    public bool IsEmpty => _hashes.Length == 0;

    public bool Authorizes(HttpRequest request) => Match(request) >= 0;

    /// <summary>The position (in the list given) of the secret in the request's Bearer header; -1 when none.</summary>
    public int Match(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return -1;
        return Match(header["Bearer ".Length..].Trim());
    }

    /// <summary>Whether <paramref name="secret"/> is one of the set (a token typed into the dashboard's sign-in form).</summary>
    public bool Matches(string secret) => Match(secret) >= 0;

    /// <summary>The position of <paramref name="presented"/> in the list given; -1 when none.</summary>
    public int Match(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var found = -1;
        for (var i = 0; i < _hashes.Length; i++)
        {
            // Every hash is compared and the position chosen by a mask, not a branch or an early exit.
            var mask = -Convert.ToInt32(CryptographicOperations.FixedTimeEquals(_hashes[i], hash));
            found = (found & ~mask) | (_positions[i] & mask);
        }
        return found;
    }
}
