using Junction.Canonical;
using Junction.State;

namespace Junction.Identity;

/// <summary>Identifier types, in priority order: a higher value wins a conflict.</summary>
public enum IdentifierType
{
    AnonymousId = 0,
    OrderId = 1,
    PurchaseToken = 2,
    Phone = 3,
    Email = 4,
    CustomerId = 5,
}

/// <summary>
/// What is matched: the type, the normalized value, and for ids that only mean something inside
/// one system (customer and order ids) the source that issued them.
/// </summary>
public readonly record struct IdentifierKey(IdentifierType Type, string Value, string? Scope = null) : IComparable<IdentifierKey>
{
    public static IdentifierKey Email(string email) => new(IdentifierType.Email, email);
    public static IdentifierKey Customer(string source, string id) => new(IdentifierType.CustomerId, id, source);
    public static IdentifierKey Order(string source, string id) => new(IdentifierType.OrderId, id, source);
    public static IdentifierKey Phone(string phone) => new(IdentifierType.Phone, phone);
    public static IdentifierKey Token(string token) => new(IdentifierType.PurchaseToken, token);
    public static IdentifierKey Anonymous(string id) => new(IdentifierType.AnonymousId, id);

    public string TypeName => Type switch
    {
        IdentifierType.CustomerId => "customer_id",
        IdentifierType.Email => "email",
        IdentifierType.Phone => "phone",
        IdentifierType.PurchaseToken => "purchase_token",
        IdentifierType.OrderId => "order_id",
        _ => "anonymous_id",
    };

    /// <summary>Higher priority first, then by value: the one order identifiers are considered in.</summary>
    public int CompareTo(IdentifierKey other)
    {
        var c = other.Type.CompareTo(Type);
        if (c != 0) return c;
        c = string.CompareOrdinal(Scope, other.Scope);
        return c != 0 ? c : string.CompareOrdinal(Value, other.Value);
    }

    public static bool operator <(IdentifierKey left, IdentifierKey right) => left.CompareTo(right) < 0;
    public static bool operator <=(IdentifierKey left, IdentifierKey right) => left.CompareTo(right) <= 0;
    public static bool operator >(IdentifierKey left, IdentifierKey right) => left.CompareTo(right) > 0;
    public static bool operator >=(IdentifierKey left, IdentifierKey right) => left.CompareTo(right) >= 0;

    public override string ToString() => Scope is null ? $"{TypeName}:{Value}" : $"{TypeName}:{Scope}:{Value}";

    /// <summary>Parses <c>TYPE:VALUE</c> or <c>TYPE:SOURCE:VALUE</c> (customer_id, order_id), as the people API takes it.</summary>
    public static bool TryParse(string? text, out IdentifierKey key)
    {
        key = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return false;
        var type = text[..colon];
        var rest = text[(colon + 1)..];
        switch (type)
        {
            case "email":
                if (Canonical.Identifiers.NormalizeEmail(rest) is not { } email) return false;
                key = Email(email);
                return true;
            case "phone":
                if (Canonical.Identifiers.NormalizePhone(rest) is not { } phone) return false;
                key = Phone(phone);
                return true;
            case "purchase_token" when rest.Length > 0:
                key = Token(rest);
                return true;
            case "anonymous_id" when rest.Length > 0:
                key = Anonymous(rest);
                return true;
            case "customer_id" or "order_id":
                var second = rest.IndexOf(':', StringComparison.Ordinal);
                if (second <= 0 || second == rest.Length - 1) return false;
                key = type == "customer_id" ? Customer(rest[..second], rest[(second + 1)..]) : Order(rest[..second], rest[(second + 1)..]);
                return true;
            default:
                return false;
        }
    }
}

/// <summary>An identifier as an event carried it: the key, the value as sent, and the source.</summary>
public sealed record IdentifierRef(IdentifierKey Key, string Raw, string Source);

/// <summary>Finds an event's identifiers and throws away the ones that must never link anything.</summary>
public static class IdentifierExtraction
{
    // Placeholders systems put where they have no value. Compared trimmed and lower-cased.
    private static readonly HashSet<string> BuiltInJunk = new(StringComparer.Ordinal)
    {
        "", "null", "nil", "none", "undefined", "unknown", "0", "-1", "anonymous", "n/a", "na", "guest", "test",
    };

    public static bool IsJunk(string? value, IdentityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (value is null) return true;
        var v = value.Trim().ToLowerInvariant();
        if (BuiltInJunk.Contains(v)) return true;
        foreach (var junk in policy.JunkValues)
        {
            if (string.Equals(junk.Trim().ToLowerInvariant(), v, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Every usable identifier on the event, highest priority first; junk values go to <paramref name="junk"/>.</summary>
    public static List<IdentifierRef> Extract(CanonicalEvent e, IdentityPolicy policy, List<IdentifierRef>? junk = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        var found = new List<IdentifierRef>();
        var s = e.Subject;
        void Add(IdentifierType type, string? value, string? raw, string? scope)
        {
            if (value is null && raw is null) return;
            var key = new IdentifierKey(type, value ?? raw!.Trim(), scope);
            var r = new IdentifierRef(key, raw ?? value!, e.Source);
            if (value is null || IsJunk(value, policy) || (raw is not null && IsJunk(raw, policy)))
            {
                junk?.Add(r);
                return;
            }
            if (!found.Exists(f => f.Key == key)) found.Add(r);
        }
        Add(IdentifierType.CustomerId, Clean(s.CustomerId), s.CustomerId, e.Source);
        Add(IdentifierType.Email, s.Email, s.EmailRaw ?? s.Email, null);
        if (e.Type == EventTypes.EmailChanged) Add(IdentifierType.Email, s.PreviousEmail, s.PreviousEmail, null);
        Add(IdentifierType.Phone, s.Phone, s.Phone, null);
        Add(IdentifierType.PurchaseToken, Clean(s.PurchaseToken), s.PurchaseToken, null);
        if (e.Order is { } order)
        {
            Add(IdentifierType.OrderId, Clean(order.OrderId), order.OrderId, e.Source);
            foreach (var related in order.RelatedIds) Add(IdentifierType.OrderId, Clean(related), related, e.Source);
        }
        Add(IdentifierType.AnonymousId, Clean(s.AnonymousId), s.AnonymousId, null);
        found.Sort((a, b) => a.Key.CompareTo(b.Key));
        return found;
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
