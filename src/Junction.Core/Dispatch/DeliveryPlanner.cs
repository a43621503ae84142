using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Junction.Canonical;
using Junction.Identity;
using Junction.State;

namespace Junction.Dispatch;

/// <summary>
/// Decides what each destination should receive for one person change. State destinations get one
/// desired-state draft when what the person should look like there changed; event destinations get
/// one draft per matching new event. Pure: the dispatcher diffs against what was last synced.
/// </summary>
public sealed class DeliveryPlanner(IReadOnlyList<DestinationConfig> destinations, Func<CanonicalEvent, string>? eventJson = null) : IDeliveryPlanner
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    private readonly Func<CanonicalEvent, string> _eventJson = eventJson ?? (e => JsonSerializer.Serialize(e, Json));

    public IReadOnlyList<DeliveryDraft> Plan(PersonChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var drafts = new List<DeliveryDraft>();
        foreach (var d in destinations)
        {
            if (d.IsState && StateDraft(d, change) is { } state) drafts.Add(state);
            if (!d.Traits.Events) continue;
            var events = EventsFor(d);
            foreach (var e in change.NewEvents)
            {
                if (events.Count > 0 && !events.Contains(e.Type)) continue;
                // A test purchase (a provider's test mode, a sandbox) must not count as revenue in analytics.
                if (e.TestMode && d.Traits.SkipsTestEvents) continue;
                // An imported record is not something that happened now: analytics and webhooks already saw it, or never should.
                if (e.Historical) continue;
                drafts.Add(new DeliveryDraft
                {
                    Destination = d.Id,
                    PersonId = change.PersonId,
                    Kind = DeliveryKinds.Event,
                    EventId = e.Id,
                    Payload = _eventJson(e),
                    TraceId = e.TraceId,
                });
            }
        }
        return drafts;
    }

    // One desired-state draft when what the person should look like there changed.
    private static DeliveryDraft? StateDraft(DestinationConfig d, PersonChange change)
    {
        // A person known only from this tool's own export is there already, as they are: not re-added.
        if (change.Before is null && change.NewEvents.Count > 0
            && change.NewEvents.All(e => e.Historical && string.Equals(e.ImportedFrom, d.Type, StringComparison.Ordinal)))
        {
            return null;
        }
        var after = Desired(d, change.Identity, change.After);
        if (after is null) return null; // no address: nothing to sync to
        var before = change.Before is null ? null : Desired(d, change.Identity, change.Before);
        if (after.Equivalent(before)) return null;
        // A person the destination never had to hold is not created there: a refund that
        // arrives before its purchase leaves nothing behind.
        if (!Holds(d, after) && (before is null || !Holds(d, before))) return null;
        return new DeliveryDraft
        {
            Destination = d.Id,
            PersonId = change.PersonId,
            Kind = DeliveryKinds.State,
            Payload = SerializeDesired(after),
            TraceId = change.TraceId,
        };
    }

    /// <summary>The canonical event types an event destination receives; empty means all.</summary>
    public static IReadOnlyList<string> EventsFor(DestinationConfig d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.Events.Count > 0) return d.Events;
        return d.Traits.DefaultEvents;
    }

    /// <summary>
    /// What the person should look like in state destination <paramref name="d"/>; null when the
    /// person has no email address (nothing to sync to).
    /// </summary>
    public static DesiredContact? Desired(DestinationConfig d, PersonIdentity identity, PersonState state)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(state);
        var identityEmails = identity.Emails;
        var email = state.PrimaryEmail ?? state.PurchaseEmail ?? (state.Emails.Count > 0 ? state.Emails[0] : null)
            ?? identity.PrimaryEmail ?? identity.PurchaseEmail ?? (identityEmails.Count > 0 ? identityEmails[0] : null);
        if (string.IsNullOrEmpty(email)) return null;

        var courses = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entitlement in state.Entitlements)
        {
            if (entitlement.State is EntitlementStates.Active or EntitlementStates.PendingRevocation
                && d.Courses.TryGetValue(entitlement.Product, out var course))
            {
                courses.Add(course);
            }
        }

        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (personField, destinationField) in d.Fields)
        {
            if (PersonFields.Value(personField, email, state) is { } value) fields[destinationField] = value;
        }

        // A course platform holds enrollments only: tags and consent are not its business, and
        // leaving them out keeps an unsubscribe from queuing a no-op sync there.
        if (d.Traits.EnrollmentsOnly)
        {
            return new DesiredContact { Email = email, Fields = [.. fields], Courses = [.. courses], Subscribed = false };
        }

        var tags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tag in state.Tags)
        {
            if (d.Tags.TryGetValue(tag, out var mapped)) tags.Add(mapped);
        }
        var granted = state.Consent.Any(c => c.Channel == "email" && c.Granted);
        // Unconfirmed (double opt-in awaiting the email platform's confirmation): held as pending, not mailed.
        var pending = granted && state.Consent.Any(c => c.Channel == "email" && c.Granted && c.Confirmed == false);
        var subscribed = granted && !pending;
        var optedOut = !granted && state.Consent.Any(c => c.Channel == "email" && !c.Granted);
        return new DesiredContact
        {
            Email = email, Fields = [.. fields], Tags = [.. tags], Courses = [.. courses], Subscribed = subscribed, OptedOut = optedOut, Pending = pending,
        };
    }

    /// <summary>Whether the destination has a reason to hold the contact at all.</summary>
    public static bool Holds(DestinationConfig d, DesiredContact c)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(c);
        return d.Traits.EnrollmentsOnly ? c.Courses.Count > 0 : c.Subscribed || c.Pending || c.Tags.Count > 0 || c.Courses.Count > 0;
    }

    /// <summary>The outbox payload of a state draft.</summary>
    public static string SerializeDesired(DesiredContact contact) => JsonSerializer.Serialize(DesiredJson.From(contact), Json);

    public static DesiredContact DeserializeDesired(string json) =>
        (JsonSerializer.Deserialize<DesiredJson>(json, Json) ?? throw new JsonException("not a desired contact")).ToContact();

    // Fields as a JSON object (not a list of {key, value}) so an outbox row reads naturally.
    private sealed record DesiredJson
    {
        public required string Email { get; init; }
        public SortedDictionary<string, string> Fields { get; init; } = new(StringComparer.Ordinal);
        public IReadOnlyList<string> Tags { get; init; } = [];
        public IReadOnlyList<string> Courses { get; init; } = [];
        public bool Subscribed { get; init; }
        public bool OptedOut { get; init; }
        // Left out when false, so payloads without double opt-in read as before.
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
        public bool Pending { get; init; }

        public static DesiredJson From(DesiredContact c) => new()
        {
            Email = c.Email,
            Fields = new SortedDictionary<string, string>(c.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal), StringComparer.Ordinal),
            Tags = c.Tags,
            Courses = c.Courses,
            Subscribed = c.Subscribed,
            OptedOut = c.OptedOut,
            Pending = c.Pending,
        };

        public DesiredContact ToContact() => new()
        {
            Email = Email,
            Fields = [.. new SortedDictionary<string, string>(Fields ?? [], StringComparer.Ordinal)],
            Tags = [.. (Tags ?? []).Order(StringComparer.Ordinal)],
            Courses = [.. (Courses ?? []).Order(StringComparer.Ordinal)],
            Subscribed = Subscribed,
            OptedOut = OptedOut,
            Pending = Pending,
        };
    }
}

/// <summary>
/// The person fields a state destination can map (<c>fields: {person field: destination field}</c>).
/// Money is in major units with the currency's own exponent (ltv_usd = "49.00").
/// </summary>
public static class PersonFields
{
    public const string Email = "email";
    public const string BuyerStatus = "buyer_status";
    public const string OrderCount = "order_count";
    public const string FirstOrderAt = "first_order_at";
    public const string LastOrderAt = "last_order_at";
    public const string FirstOrderSku = "first_order_sku";
    public const string LastOrderSku = "last_order_sku";
    public const string FirstUtmSource = "first_utm_source";
    public const string FirstUtmCampaign = "first_utm_campaign";
    public const string LastUtmSource = "last_utm_source";
    public const string LastUtmCampaign = "last_utm_campaign";

    /// <summary>Per-currency fields: <c>ltv_usd</c>, <c>spent_eur</c>, <c>refunded_gbp</c> …</summary>
    public static readonly IReadOnlyList<string> CurrencyPrefixes = ["ltv_", "spent_", "refunded_"];

    public static readonly IReadOnlySet<string> Plain = new HashSet<string>(StringComparer.Ordinal)
    {
        Email, BuyerStatus, OrderCount, FirstOrderAt, LastOrderAt, FirstOrderSku, LastOrderSku,
        FirstUtmSource, FirstUtmCampaign, LastUtmSource, LastUtmCampaign,
    };

    public static bool IsKnown(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (Plain.Contains(field)) return true;
        foreach (var prefix in CurrencyPrefixes)
        {
            if (field.StartsWith(prefix, StringComparison.Ordinal) && field.Length == prefix.Length + 3
                && field[prefix.Length..].All(char.IsAsciiLetterLower))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The value to send, or null when the person has none (the field is then left out).</summary>
    public static string? Value(string field, string email, PersonState state)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(state);
        var d = state.Derived;
        switch (field)
        {
            case Email: return email;
            case BuyerStatus: return d.BuyerStatus;
            case OrderCount: return d.OrderCount.ToString(CultureInfo.InvariantCulture);
            case FirstOrderAt: return Time(d.FirstOrderAt);
            case LastOrderAt: return Time(d.LastOrderAt);
            case FirstOrderSku: return d.FirstOrderSku;
            case LastOrderSku: return d.LastOrderSku;
            case FirstUtmSource: return state.Attribution.FirstTouch?.UtmSource;
            case FirstUtmCampaign: return state.Attribution.FirstTouch?.UtmCampaign;
            case LastUtmSource: return state.Attribution.LastTouch?.UtmSource;
            case LastUtmCampaign: return state.Attribution.LastTouch?.UtmCampaign;
        }
        foreach (var prefix in CurrencyPrefixes)
        {
            if (!field.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var currency = field[prefix.Length..].ToUpperInvariant();
            var totals = d.Totals.FirstOrDefault(t => t.Currency == currency);
            if (totals is null) return null;
            var minor = prefix switch { "ltv_" => totals.LifetimeValue, "spent_" => totals.Spent, _ => totals.Refunded };
            return Money.FormatMajor(minor, currency);
        }
        return null;
    }

    private static string? Time(DateTimeOffset? t) =>
        t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
