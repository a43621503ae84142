using System.Globalization;

namespace Junction.State;

/// <summary>
/// The parts of <c>junction.yaml</c> the person-state fold and identity resolution read:
/// <c>tags:</c>, <c>products:</c>, <c>ownership:</c>, <c>identity:</c> and <c>lifecycle:</c>.
/// Built by the config loader (which validates it); tests build it directly.
/// </summary>
public sealed record Policy
{
    public static readonly Policy Empty = new();

    /// <summary>The tag vocabulary. Only these tags are ever applied.</summary>
    public IReadOnlySet<string> Tags { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public IReadOnlyList<ProductPolicy> Products { get; init; } = [];

    public Ownership Ownership { get; init; } = Ownership.Default;

    public IdentityPolicy Identity { get; init; } = IdentityPolicy.Default;

    public IReadOnlyList<LifecycleRule> Lifecycle { get; init; } = [];

    /// <summary>
    /// Sources anyone on the internet can post to (forms), by source id: what they may change.
    /// Built from the sources' provider trait and options, so a rebuild applies the same rules.
    /// </summary>
    public IReadOnlyDictionary<string, UnauthenticatedSource> Unauthenticated { get; init; } =
        new Dictionary<string, UnauthenticatedSource>(StringComparer.Ordinal);

    /// <summary>
    /// Providers anyone can post as (<c>form</c>): their events get the strictest rules even when
    /// their source is no longer configured, so removing a form source cannot loosen a rebuild.
    /// </summary>
    public IReadOnlySet<string> UnauthenticatedProviders { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The rules for an event's source: its own, the strictest for an unauthenticated provider, or null (authenticated).</summary>
    public UnauthenticatedSource? RulesFor(string source, string provider) =>
        Unauthenticated.TryGetValue(source, out var rules) ? rules
        : UnauthenticatedProviders.Contains(provider) ? UnauthenticatedSource.Strictest
        : null;

    /// <summary>The product whose <c>tags_while_active</c> holds the tag, or null: such a tag comes only from the entitlement.</summary>
    public string? ProductGranting(string tag)
    {
        foreach (var p in Products)
        {
            foreach (var t in p.TagsWhileActive)
            {
                if (string.Equals(t, tag, StringComparison.Ordinal)) return p.Id;
            }
        }
        return null;
    }
}

/// <summary>
/// What a source that signs nothing (a landing-page form) may change: tags only from its
/// <c>allowed_tags</c>, email consent withdrawn only with <c>allow_withdraw</c>, consent
/// unconfirmed until the email platform confirms it with <c>double_opt_in</c>. It never merges people.
/// </summary>
public sealed record UnauthenticatedSource
{
    /// <summary>No tags, no withdrawal, no double opt-in: the defaults of a form source.</summary>
    public static readonly UnauthenticatedSource Strictest = new();

    public IReadOnlySet<string> AllowedTags { get; init; } = new HashSet<string>(StringComparer.Ordinal);
    public bool AllowWithdraw { get; init; }
    public bool DoubleOptIn { get; init; }
}

public enum RevokeOn
{
    /// <summary>Revoke when the order is refunded in full (the default) or a chargeback is lost.</summary>
    FullRefund,

    /// <summary>Revoke on any refund, partial included (and on a lost chargeback).</summary>
    AnyRefund,
}

/// <summary>A product in <c>products:</c>: which ids of which sources grant it, and what follows from it.</summary>
public sealed record ProductPolicy
{
    public required string Id { get; init; }
    public required IReadOnlyList<ProductMatch> Match { get; init; }
    public IReadOnlyList<string> TagsWhileActive { get; init; } = [];
    public RevokeOn RevokeOn { get; init; } = RevokeOn.FullRefund;

    /// <summary>When set, a revocation takes effect this long after its cause; meanwhile the entitlement is <c>pending_revocation</c>.</summary>
    public TimeSpan? RevokeAfter { get; init; }

    public bool Matches(string source, Canonical.OrderItem item)
    {
        foreach (var m in Match)
        {
            if (m.Matches(source, item.PriceId, item.ProductId, item.Sku)) return true;
        }
        return false;
    }

    /// <summary>A course platform's access.granted/revoked names the platform's product id.</summary>
    public bool MatchesAccess(string source, string productId)
    {
        foreach (var m in Match)
        {
            if (m.Matches(source, null, productId, null)) return true;
        }
        return false;
    }
}

/// <summary>One <c>match:</c> entry: a source and one id (price, product or SKU) of that source.</summary>
public sealed record ProductMatch(string Source, string? Price = null, string? Product = null, string? Sku = null)
{
    public bool Matches(string source, string? price, string? product, string? sku) =>
        string.Equals(source, Source, StringComparison.Ordinal)
        && ((Price is not null && string.Equals(price, Price, StringComparison.Ordinal))
            || (Product is not null && string.Equals(product, Product, StringComparison.Ordinal))
            || (Sku is not null && string.Equals(sku, Sku, StringComparison.Ordinal)));
}

/// <summary>
/// Which systems may write which group of fields. An owner entry names a provider kind
/// (<see cref="ProviderKinds"/>), a provider or a source id. A field with no entry may be written by anyone.
/// <see cref="Kinds"/> says which kind each provider is; every provider declares its own (in its
/// integration's folder) and the config loader hands them over.
/// </summary>
public sealed record Ownership(IReadOnlyDictionary<string, IReadOnlyList<string>> Owners)
{
    public const string Money = "money";
    public const string Access = "access";
    public const string SubscriptionPreferences = "subscription_preferences";
    public const string Tags = "tags";
    public const string Webinars = "webinars";
    public const string Bookings = "bookings";

    public static readonly IReadOnlyList<string> Fields = [Money, Access, SubscriptionPreferences, Tags, Webinars, Bookings];

    /// <summary>Payments own money, course platforms own access, email platforms and forms own subscription preferences.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> DefaultOwners = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [Money] = [ProviderKinds.Payments],
        [Access] = [ProviderKinds.Courses],
        [SubscriptionPreferences] = [ProviderKinds.Email, ProviderKinds.Forms],
    };

    /// <summary>The default owners with no provider kinds known: every provider counts as <c>custom</c>.</summary>
    public static readonly Ownership Default = new(DefaultOwners);

    /// <summary>Provider name → its kind; a provider missing here is <c>custom</c>.</summary>
    public IReadOnlyDictionary<string, string> Kinds { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The default owners for these provider kinds.</summary>
    public static Ownership For(IReadOnlyDictionary<string, string> kinds) => new(DefaultOwners) { Kinds = kinds };

    /// <summary>These owners with the configured entries replacing theirs.</summary>
    public Ownership WithOverrides(IReadOnlyDictionary<string, IReadOnlyList<string>> configured)
    {
        var owners = new Dictionary<string, IReadOnlyList<string>>(Owners, StringComparer.Ordinal);
        foreach (var (field, list) in configured) owners[field] = list;
        return this with { Owners = owners };
    }

    /// <summary>The kind of <paramref name="provider"/>: <c>custom</c> when it declares none.</summary>
    public string KindOf(string provider) => Kinds.TryGetValue(provider, out var kind) ? kind : ProviderKinds.Custom;

    public bool MayWrite(string field, string source, string provider)
    {
        if (!Owners.TryGetValue(field, out var owners)) return true;
        var kind = KindOf(provider);
        foreach (var owner in owners)
        {
            if (string.Equals(owner, source, StringComparison.Ordinal)
                || string.Equals(owner, provider, StringComparison.Ordinal)
                || string.Equals(owner, kind, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The <c>identity:</c> section.</summary>
public sealed record IdentityPolicy
{
    public static readonly IdentityPolicy Default = new();

    public int EmailLimit { get; init; } = 5;
    public int PhoneLimit { get; init; } = 3;
    public int AnonymousIdLimit { get; init; } = 20;

    /// <summary>Values that never link anything, besides the built-in ones (compared trimmed, lower case).</summary>
    public IReadOnlyList<string> JunkValues { get; init; } = [];

    /// <summary>Sources anyone can post to: their events may add identifiers to a person but never merge two people.</summary>
    public IReadOnlySet<string> UnauthenticatedSources { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Providers anyone can post as: their events never merge, whether or not their source is still configured.</summary>
    public IReadOnlySet<string> UnauthenticatedProviders { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public bool MayMerge(string source, string provider) => !UnauthenticatedSources.Contains(source) && !UnauthenticatedProviders.Contains(provider);
}

/// <summary>
/// A <c>lifecycle:</c> rule. Either <c>after: TYPE, delay: D</c> (due D after the latest TYPE
/// event, unless an <c>unless:</c> event follows it) or <c>no: TYPE, for: D</c> (due when D has
/// passed since the latest TYPE event with none since). When due it adds a tag and/or asks for an event to be emitted.
/// </summary>
public sealed record LifecycleRule
{
    public required string Name { get; init; }
    public string? After { get; init; }
    public string? No { get; init; }
    public required TimeSpan Delay { get; init; }
    public string? Unless { get; init; }

    /// <summary>Only events whose order has an item of this product count (for order events).</summary>
    public string? Product { get; init; }

    public string? AddTag { get; init; }
    public string? Emit { get; init; }

    public string TriggerType => After ?? No ?? "";
}

/// <summary>Durations in config: a whole number and a unit, <c>30s</c>, <c>30m</c>, <c>12h</c>, <c>7d</c>, <c>2w</c>.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t.Length < 2) return false;
        if (!long.TryParse(t.AsSpan(0, t.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 100_000)
        {
            return false;
        }
        value = t[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            _ => TimeSpan.Zero,
        };
        return value > TimeSpan.Zero;
    }

    public static string Format(TimeSpan value) =>
        value.TotalDays >= 1 && value.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)value.TotalDays}d"
        : value.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)value.TotalHours}h"
        : value.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)value.TotalMinutes}m"
        : $"{(long)value.TotalSeconds}s";
}

/// <summary>What kind of system a provider is, for <c>ownership:</c>; each provider declares its own. Unknown providers are <c>custom</c>.</summary>
public static class ProviderKinds
{
    public const string Payments = "payments";
    public const string Email = "email";
    public const string Courses = "courses";
    public const string Webinars = "webinars";
    public const string Bookings = "bookings";
    public const string Forms = "forms";
    public const string Custom = "custom";

    public static readonly IReadOnlyList<string> All = [Payments, Email, Courses, Webinars, Bookings, Forms, Custom];
}
