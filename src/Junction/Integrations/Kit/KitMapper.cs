using System.Globalization;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Kit;

/// <summary>
/// Kit → canonical events, one per Kit event, however many a request carries.
/// Webhook endpoints (developers.kit.com/webhooks/delivery-format, event-types): a delivery is
/// <c>{"delivery_id", "events": [{"id" (UUID), "type", "created" (ISO-8601), "data": {"subscriber",
/// "form" | "sequence" | "tag" …}}]}</c> with up to 100 events of one type; each event's UUID is its fact key.
/// Legacy rule webhooks (developers.kit.com/api-reference/v3/webhooks): <c>{"subscriber": {…}}</c> or the
/// purchase object, with no type, id or time in the body; the rule's event comes from the hook URL
/// (see <see cref="KitProvider"/>), else it is read from the subscriber's <c>state</c>. A legacy
/// body may also be a list of subscribers (<c>{"subscribers": […]}</c> or a bare array): each one
/// is its own event. Bounces change no consent (deliverability, not a choice) and are ignored.
/// </summary>
public sealed class KitMapper : IPayloadMapper
{
    private const string Consent = "email";

    public MapResult Map(RawInput raw)
    {
        JsonElement root;
        try
        {
            root = raw.Json();
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected Kit's JSON ({ex.Message})");
        }
        try
        {
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("events", out var events)
                ? MapDelivery(raw, events)
                : MapLegacy(raw, root);
        }
        catch (MappingException ex)
        {
            return new MapResult.Quarantined(ex.Message);
        }
    }

    // ---- webhook endpoints ----

    private static MapResult MapDelivery(RawInput raw, JsonElement events)
    {
        if (events.ValueKind != JsonValueKind.Array) throw new MappingException("events: expected an array of events");
        var mapped = new List<CanonicalEvent>();
        var ignored = new List<string>();
        string? firstType = null;
        var i = 0;
        foreach (var e in events.EnumerateArray())
        {
            string type;
            try
            {
                if (e.ValueKind != JsonValueKind.Object) throw new MappingException(": expected an event object");
                type = e.RequiredStr("type");
                firstType ??= type;
                var id = e.RequiredStr("id");
                var at = e.Time("created") ?? throw new MappingException("created: required, expected an ISO-8601 time");
                var result = MapEvent(raw, type, id, at, e.Path("data") ?? throw new MappingException("data: required, expected an object"));
                if (result.Event is { } ce) mapped.Add(ce);
                else ignored.Add(result.Reason!);
            }
            catch (MappingException ex)
            {
                throw new MappingException($"events[{i}]{(ex.Message.StartsWith(':') ? "" : ".")}{ex.Message}");
            }
            i++;
        }
        if (i == 0) return new MapResult.Ignored("Kit delivery with no events");
        return mapped.Count > 0
            ? new MapResult.Mapped(mapped) { ProviderType = firstType }
            : new MapResult.Ignored(string.Join("; ", ignored.Distinct(StringComparer.Ordinal))) { ProviderType = firstType };
    }

    /// <summary>A canonical event, or the reason it is ignored.</summary>
    private static One MapEvent(RawInput raw, string type, string id, DateTimeOffset at, JsonElement data)
    {
        var fact = $"{type}:{id}";
        switch (type)
        {
            case "subscriber.created":
            {
                var s = Subscriber(data, "data.subscriber");
                // Created inactive = waiting for the double opt-in confirmation (subscriber.activated follows).
                return State(s) == "active"
                    ? Optin(raw, fact, at, s, type, "kit", confirmed: null, tags: [])
                    : $"Kit {type} with state {State(s) ?? "(none)"}: no consent until the subscriber is activated";
            }
            case "subscriber.activated":
                return Optin(raw, fact, at, Subscriber(data, "data.subscriber"), type, "kit", confirmed: true, tags: []);
            case "subscriber.subscribed_to_form":
            {
                var s = Subscriber(data, "data.subscriber");
                var (formId, formName) = Resource(data, "form");
                return Optin(raw, fact, at, s, type, formId is null ? "kit form" : $"kit form {formId}",
                    confirmed: State(s) == "active", tags: Names(formName, formId));
            }
            case "subscriber.added_to_sequence":
            {
                var s = Subscriber(data, "data.subscriber");
                var (seqId, seqName) = Resource(data, "sequence");
                return Optin(raw, fact, at, s, type, seqId is null ? "kit sequence" : $"kit sequence {seqId}",
                    confirmed: State(s) == "active", tags: Names(seqName, seqId));
            }
            case "subscriber.unsubscribed":
                return Withdrawn(raw, EventTypes.Unsubscribe, fact, at, Subscriber(data, "data.subscriber"), type);
            case "subscriber.complained":
                return Withdrawn(raw, EventTypes.SpamComplaint, fact, at, Subscriber(data, "data.subscriber"), type);
            case "subscriber.bounced":
                return $"Kit {type}: a bounce is deliverability, not consent; Junction has no canonical type for it";
            case "subscriber.tag_added":
            case "subscriber.tag_removed":
            {
                var s = Subscriber(data, "data.subscriber");
                var (tagId, tagName) = Resource(data, "tag");
                var tags = Names(tagName, tagId);
                if (tags.Count == 0) throw new MappingException("data.tag: required, expected the tag with its name or id");
                var canonical = type == "subscriber.tag_added" ? EventTypes.TagAdded : EventTypes.TagRemoved;
                return raw.Event(canonical, fact, at, SubjectOf(s), providerType: type) with { Tags = tags };
            }
            case "subscriber.email_changed":
            case "subscriber.email_address_changed":
            case "subscriber.updated":
            {
                // Not in Kit's catalog as read: mapped only when a previous address is present.
                var s = Subscriber(data, "data.subscriber");
                var previous = data.Str("previous_email_address") ?? data.Str("subscriber.previous_email_address") ?? data.Str("old_email_address");
                var subject = SubjectOf(s);
                if (Identifiers.NormalizeEmail(previous) is not { } old || old == subject.Email)
                {
                    return $"Kit {type} without a changed email address";
                }
                return raw.Event(EventTypes.EmailChanged, fact, at, subject with { PreviousEmail = old }, providerType: type);
            }
            case "purchase.created":
            case "subscriber.product_purchased":
                return data.Path("purchase") is { ValueKind: JsonValueKind.Object } purchase
                    ? Purchase(raw, fact, purchase, "data.purchase", type, at)
                    : $"Kit {type} without a purchase object";
            default:
                return $"Kit {type} is not an event Junction uses";
        }
    }

    // ---- legacy rule webhooks ----

    private static readonly Dictionary<string, string> LegacyNames = new(StringComparer.Ordinal)
    {
        ["subscriber_activate"] = "subscriber.subscriber_activate",
        ["subscriber_unsubscribe"] = "subscriber.subscriber_unsubscribe",
        ["subscriber_bounce"] = "subscriber.subscriber_bounce",
        ["subscriber_complain"] = "subscriber.subscriber_complain",
        ["form_subscribe"] = "subscriber.form_subscribe",
        ["course_subscribe"] = "subscriber.course_subscribe",
        ["course_complete"] = "subscriber.course_complete",
        ["link_click"] = "subscriber.link_click",
        ["product_purchase"] = "subscriber.product_purchase",
        ["tag_add"] = "subscriber.tag_add",
        ["tag_remove"] = "subscriber.tag_remove",
        ["purchase_create"] = "purchase.purchase_create",
    };

    private static MapResult MapLegacy(RawInput raw, JsonElement root)
    {
        var (urlEvent, rule) = LegacyFromKey(raw.DedupKey);
        if (urlEvent is not null && !urlEvent.Contains('.', StringComparison.Ordinal))
        {
            urlEvent = LegacyNames.GetValueOrDefault(urlEvent, urlEvent);
        }

        // A purchase rule posts the purchase itself.
        if (urlEvent == "purchase.purchase_create"
            || (urlEvent is null && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("transaction_id", out _)))
        {
            const string type = "purchase.purchase_create";
            var at = root.Time("transaction_time") ?? raw.ReceivedAt;
            var orderId = root.Str("transaction_id") ?? root.RequiredStr("id");
            var purchase = Purchase(raw, $"{EventTypes.OrderPaid}:{orderId}", root, "", type, at);
            return purchase.Event is { } paid
                ? new MapResult.Mapped([paid]) { ProviderType = type }
                : new MapResult.Ignored(purchase.Reason!) { ProviderType = type };
        }

        if (urlEvent is "subscriber.tag_add" or "subscriber.tag_remove" && rule is not { Name: "tag_id" })
        {
            throw new MappingException($"tag_id: required in the hook URL of a {urlEvent} rule (…&tag_id=<Kit tag id>)");
        }
        var subscribers = LegacySubscribers(root);
        var mapped = new List<CanonicalEvent>();
        var ignored = new List<string>();
        for (var i = 0; i < subscribers.Count; i++)
        {
            var (s, path) = subscribers[i];
            try
            {
                var kitEvent = urlEvent ?? FromState(State(s));
                var result = MapLegacyEvent(raw, kitEvent, rule, s, i);
                if (result.Event is { } ce) mapped.Add(ce);
                else ignored.Add(result.Reason!);
            }
            catch (MappingException ex)
            {
                throw new MappingException($"{path}.{ex.Message}");
            }
        }
        var providerType = urlEvent ?? "legacy";
        return mapped.Count > 0
            ? new MapResult.Mapped(mapped) { ProviderType = providerType }
            : new MapResult.Ignored(string.Join("; ", ignored.Distinct(StringComparer.Ordinal))) { ProviderType = providerType };
    }

    private static One MapLegacyEvent(RawInput raw, string? kitEvent, (string Name, string Value)? rule, JsonElement s, int index)
    {
        // No event id and no time in a legacy body: the stored raw event (deduplicated by body) names the fact.
        var subscriberKey = s.Str("id") ?? Identifiers.NormalizeEmail(s.Str("email_address")) ?? index.ToString(CultureInfo.InvariantCulture);
        string Fact(string canonical) => $"{canonical}:legacy:{kitEvent}:{rule?.Value}:{subscriberKey}:{raw.RawId}";
        var at = raw.ReceivedAt;
        switch (kitEvent)
        {
            case null:
                return $"Kit legacy webhook without an event in its URL and a subscriber state ({State(s) ?? "none"}) that names none";
            case "subscriber.subscriber_activate":
                return Optin(raw, Fact(EventTypes.Optin), at, s, kitEvent, "kit", confirmed: true, tags: []);
            case "subscriber.form_subscribe":
                return Optin(raw, Fact(EventTypes.Optin), at, s, kitEvent, rule is { Name: "form_id" } f ? $"kit form {f.Value}" : "kit form",
                    confirmed: State(s) == "active", tags: rule is { Name: "form_id" } r ? [r.Value] : []);
            case "subscriber.course_subscribe":
                return Optin(raw, Fact(EventTypes.Optin), at, s, kitEvent, rule is { Name: "sequence_id" } q ? $"kit sequence {q.Value}" : "kit sequence",
                    confirmed: State(s) == "active", tags: rule is { Name: "sequence_id" } r2 ? [r2.Value] : []);
            case "subscriber.subscriber_unsubscribe":
                return Withdrawn(raw, EventTypes.Unsubscribe, Fact(EventTypes.Unsubscribe), at, s, kitEvent);
            case "subscriber.subscriber_complain":
                return Withdrawn(raw, EventTypes.SpamComplaint, Fact(EventTypes.SpamComplaint), at, s, kitEvent);
            case "subscriber.subscriber_bounce":
                return $"Kit {kitEvent}: a bounce is deliverability, not consent; Junction has no canonical type for it";
            case "subscriber.tag_add":
            case "subscriber.tag_remove":
            {
                if (rule is not { Name: "tag_id" } tag) return $"Kit {kitEvent} without a tag_id in the hook URL";
                var canonical = kitEvent == "subscriber.tag_add" ? EventTypes.TagAdded : EventTypes.TagRemoved;
                return raw.Event(canonical, Fact(canonical), at, SubjectOf(s), providerType: kitEvent) with { Tags = [tag.Value] };
            }
            default:
                return $"Kit {kitEvent} is not an event Junction uses";
        }
    }

    /// <summary>The legacy event a subscriber's state implies when the URL names none.</summary>
    private static string? FromState(string? state) => state switch
    {
        "active" => "subscriber.subscriber_activate",
        "cancelled" => "subscriber.subscriber_unsubscribe",
        "complained" => "subscriber.subscriber_complain",
        "bounced" => "subscriber.subscriber_bounce",
        _ => null,
    };

    private static List<(JsonElement Subscriber, string Path)> LegacySubscribers(JsonElement root)
    {
        var list = new List<(JsonElement, string)>();
        void AddAll(JsonElement array, string prefix)
        {
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"{prefix}[{i++}]";
                // A list may hold subscribers or {"subscriber": …} wrappers.
                var s = item.ValueKind == JsonValueKind.Object && item.Path("subscriber") is { ValueKind: JsonValueKind.Object } inner ? inner : item;
                if (s.ValueKind != JsonValueKind.Object) throw new MappingException($"{path}: expected a subscriber object");
                list.Add((s, path));
            }
        }
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                AddAll(root, "");
                break;
            case JsonValueKind.Object when root.Path("subscribers") is { ValueKind: JsonValueKind.Array } many:
                AddAll(many, "subscribers");
                break;
            case JsonValueKind.Object when root.Path("subscriber") is { ValueKind: JsonValueKind.Object } one:
                list.Add((one, "subscriber"));
                break;
            default:
                throw new MappingException("subscriber: required, expected Kit's {\"subscriber\": {…}} (or a purchase, or an events envelope)");
        }
        if (list.Count == 0) throw new MappingException("subscribers: expected at least one subscriber");
        return list;
    }

    private static (string? Event, (string Name, string Value)? Rule) LegacyFromKey(string dedupKey)
    {
        // legacy:{event}:{name=value or empty}:{sha256}
        if (!dedupKey.StartsWith("legacy:", StringComparison.Ordinal)) return (null, null);
        var parts = dedupKey.Split(':');
        if (parts.Length != 4) return (null, null);
        var kitEvent = Uri.UnescapeDataString(parts[1]);
        (string, string)? rule = null;
        var eq = parts[2].IndexOf('=', StringComparison.Ordinal);
        if (eq > 0) rule = (parts[2][..eq], Uri.UnescapeDataString(parts[2][(eq + 1)..]));
        return (kitEvent.Length == 0 ? null : kitEvent, rule);
    }

    // ---- shared pieces ----

    private static JsonElement Subscriber(JsonElement data, string path) =>
        data.Path("subscriber") is { ValueKind: JsonValueKind.Object } s ? s : throw new MappingException($"{path}: required, expected the subscriber object");

    private static string? State(JsonElement subscriber) => subscriber.Str("state");

    private static (string? Id, string? Name) Resource(JsonElement data, string name) =>
        data.Path(name) is { ValueKind: JsonValueKind.Object } r ? (r.Str("id"), r.Str("name")) : (null, null);

    private static List<string> Names(string? name, string? id) =>
        !string.IsNullOrWhiteSpace(name) ? [name.Trim()] : !string.IsNullOrWhiteSpace(id) ? [id.Trim()] : [];

    private static Subject SubjectOf(JsonElement s) => Subject.From(s.Str("email_address"), s.Str("id"), name: s.Str("first_name"));

    private static Attribution? AttributionOf(JsonElement s)
    {
        var referrer = s.Str("referrer");
        var fromUrl = AttributionParser.FromUrl(referrer);
        if (fromUrl is { UtmSource: not null }) return fromUrl;
        var utm = s.StringMap("referrer_utm_parameters");
        var values = utm.ToDictionary(kv => "utm_" + kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        var fromFields = AttributionParser.FromValues(values);
        return fromFields is null ? fromUrl : fromFields with { LandingPage = fromUrl?.LandingPage };
    }

    private static One Optin(RawInput raw, string fact, DateTimeOffset at, JsonElement s, string providerType, string source, bool? confirmed, List<string> tags)
    {
        // A consent event never revives an address Kit itself holds as withdrawn.
        if (State(s) is "cancelled" or "complained" or "bounced")
        {
            return $"Kit {providerType} for a subscriber whose state is {State(s)}: no consent granted";
        }
        return raw.Event(EventTypes.Optin, fact, at, SubjectOf(s), providerType: providerType) with
        {
            Consent = [new ConsentInfo { Channel = Consent, Granted = true, Source = source, At = at.ToUniversalTime(), Confirmed = confirmed }],
            Tags = tags,
            Attribution = AttributionOf(s),
        };
    }

    private static CanonicalEvent Withdrawn(RawInput raw, string type, string fact, DateTimeOffset at, JsonElement s, string providerType) =>
        raw.Event(type, fact, at, SubjectOf(s), providerType: providerType) with
        {
            Consent = [new ConsentInfo { Channel = Consent, Granted = false, Source = "kit", At = at.ToUniversalTime() }],
        };

    /// <summary>The purchase object (v3 docs): totals are decimals in major units of <c>currency</c>.</summary>
    private static One Purchase(RawInput raw, string fact, JsonElement p, string path, string providerType, DateTimeOffset fallbackAt)
    {
        string P(string field) => path.Length == 0 ? field : $"{path}.{field}";
        var orderId = p.Str("transaction_id") ?? p.Str("id") ?? throw new MappingException($"{P("transaction_id")}: required, expected the purchase's transaction id");
        var status = p.Str("status");
        var code = p.Str("currency");
        var currency = code is null ? null : Money.Currency(code) ?? throw new MappingException($"{P("currency")}: expected a three-letter ISO 4217 code; got '{code}'");
        long? Major(JsonElement e, string field)
        {
            var text = e.Str(field);
            if (text is null) return null;
            return Money.FromMajor(text, currency ?? "USD") ?? throw new MappingException($"{P(field)}: expected a decimal amount; got '{text}'");
        }
        var items = new List<OrderItem>();
        foreach (var item in p.Array("products"))
        {
            var quantity = (int)(item.Whole("quantity") ?? 1);
            var unit = Major(item, "unit_price");
            items.Add(new OrderItem { Sku = item.Str("sku"), ProductId = item.Str("pid") ?? item.Str("lid"), Name = item.Str("name"), Quantity = quantity, Amount = unit * quantity });
        }
        var at = p.Time("transaction_time") ?? fallbackAt;
        var e = raw.Event(EventTypes.OrderPaid, fact, at, Subject.From(p.Str("email_address"), name: p.Str("first_name")), providerType: providerType) with
        {
            Order = new OrderInfo
            {
                OrderId = orderId,
                Amount = Major(p, "total"),
                Currency = currency,
                Items = items,
                RelatedIds = p.Str("id") is { } kitId && kitId != orderId ? [kitId] : [],
            },
        };
        // Only a paid purchase is order.paid (the docs' example says "paid"); anything else is not captured money.
        return status is null || status.Equals("paid", StringComparison.OrdinalIgnoreCase)
            ? e
            : $"Kit purchase with status {status} is not a captured payment";
    }

    /// <summary>One Kit event's outcome: a canonical event, or why it is ignored.</summary>
    private readonly record struct One(CanonicalEvent? Event, string? Reason)
    {
        public static implicit operator One(CanonicalEvent e) => new(e, null);

        public static implicit operator One(string reason) => new(null, reason);
    }
}
