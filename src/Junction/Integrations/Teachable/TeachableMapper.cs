using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Teachable;

/// <summary>
/// Teachable webhooks → canonical events, by <c>type</c>. Events from docs.teachable.com
/// "Webhook events and data" (available-events); the event shape <c>{type, id, livemode, created,
/// hook_event_id, object}</c> and the sale object (<c>object.{id, final_price (cents), currency,
/// is_recurring, user{id,email,name}, course{id,name}, product{id,name}}</c>) follow a captured
/// <c>Sale.created</c> (zdb/discourse-teachable-invite <c>spec/fixtures/sale_created.json</c>), which
/// arrives as a JSON array of one event, so arrays and single objects are both read. A transaction
/// names its sale by <c>sale_id</c> and gives <c>amount_refunded</c> in cents (Teachable API
/// transaction schema); the sale id is the order id both share.
/// </summary>
public sealed class TeachableMapper : IPayloadMapper
{
    public static IEnumerable<JsonElement> Events(JsonElement root) =>
        root.ValueKind == JsonValueKind.Array ? root.EnumerateArray() : [root];

    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Teachable webhook", out var root, out var problem)) return problem;
        if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
        {
            return new MapResult.Quarantined("body: expected a Teachable event object or an array of them");
        }

        var list = Events(root).ToList();
        if (list.Count == 0) return new MapResult.Quarantined("body: expected at least one event in the array");
        var prefix = root.ValueKind == JsonValueKind.Array;
        var events = new List<CanonicalEvent>();
        var ignored = new List<string>();
        var types = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            var at = prefix ? $"[{i}]." : "";
            var e = list[i];
            var type = e.ValueKind == JsonValueKind.Object ? e.Str("type") : null;
            if (type is null)
            {
                return new MapResult.Quarantined($"{at}type: required, expected an event name such as Sale.created") { ProviderType = types.FirstOrDefault() };
            }
            types.Add(type);
            try
            {
                switch (MapEvent(raw, e, type))
                {
                    case MapResult.Mapped m:
                        events.AddRange(m.Events);
                        break;
                    case MapResult.Ignored ig:
                        ignored.Add(ig.Reason);
                        break;
                }
            }
            catch (MappingException ex)
            {
                return new MapResult.Quarantined(at + ex.Message) { ProviderType = type };
            }
        }
        var providerType = string.Join(',', types.Distinct(StringComparer.Ordinal));
        return events.Count > 0
            ? new MapResult.Mapped(events) { ProviderType = providerType }
            : new MapResult.Ignored(string.Join("; ", ignored)) { ProviderType = providerType };
    }

    private static MapResult MapEvent(RawInput raw, JsonElement e, string type)
    {
        if (e.Path("object") is not { ValueKind: JsonValueKind.Object } o)
        {
            throw new MappingException("object: required, expected the event's object");
        }
        var eventId = e.RequiredStr("id");
        var at = e.Time("created") ?? throw new MappingException("created: required, expected an ISO-8601 time");
        var test = e.Bool("livemode") is false;

        CanonicalEvent Event(string canonical, string factKey, DateTimeOffset when, Subject subject) =>
            raw.Event(canonical, factKey, when, subject, test, type);

        switch (type)
        {
            case "Sale.created":
            {
                var sale = o.Str("id") ?? throw new MappingException("object.id: required, expected the sale id");
                var cents = OWhole(o, "final_price") ?? OWhole(o, "price");
                var currency = Currency(o, "currency") ?? Currency(o, "product.currency");
                var item = new OrderItem
                {
                    ProductId = o.Str("product.id") ?? o.Str("course.id"),
                    Name = o.Str("product.name") ?? o.Str("course.name"),
                    Amount = cents,
                };
                // Free and manual enrollments are sales too (price 0): recorded as paid orders of 0.
                return One(Event(EventTypes.OrderPaid, $"{EventTypes.OrderPaid}:{sale}", at, UserSubject(o)) with
                {
                    Order = new OrderInfo { OrderId = sale, Amount = cents, Currency = currency, Items = [item] },
                    Subscription = o.Bool("is_recurring") is true ? new SubscriptionInfo { SubscriptionId = sale, Status = "active" } : null,
                });
            }
            case "Sale.subscription_canceled":
            {
                var sale = o.Str("id") ?? throw new MappingException("object.id: required, expected the sale id");
                return One(Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{sale}", at, UserSubject(o)) with
                {
                    Subscription = new SubscriptionInfo { SubscriptionId = sale, Status = "canceled", CanceledAt = at },
                    Order = new OrderInfo { OrderId = sale },
                });
            }
            case "Transaction.refunded":
            {
                var sale = o.Str("sale_id") ?? o.Str("sale.id") ?? throw new MappingException("object.sale_id: required, expected the id of the refunded sale (the order id)");
                var transaction = o.Str("id") ?? throw new MappingException("object.id: required, expected the transaction id");
                var refunded = OWhole(o, "amount_refunded");
                return One(Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{transaction}:{refunded}", OTime(o, "refunded_at") ?? at, UserSubject(o)) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = sale,
                        Currency = Currency(o, "currency"),
                        RefundAmount = refunded,
                        RefundId = transaction,
                        RelatedIds = [transaction],
                    },
                });
            }
            // Not in Teachable's documented list (refunds arrive as Transaction.refunded); read if sent,
            // with the sale itself as the order.
            case "Sale.refunded":
            {
                var sale = o.Str("id") ?? throw new MappingException("object.id: required, expected the sale id");
                var refunded = OWhole(o, "amount_refunded");
                return One(Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:sale:{sale}:{refunded}", OTime(o, "refunded_at") ?? at, UserSubject(o)) with
                {
                    Order = new OrderInfo { OrderId = sale, Currency = Currency(o, "currency"), RefundAmount = refunded },
                });
            }
            case "Transaction.created":
                return new MapResult.Ignored("Teachable Transaction.created is one charge of a sale that Sale.created already reports");
            case "Enrollment.created":
            case "Enrollment.disabled":
            {
                var granted = type == "Enrollment.created";
                var canonical = granted ? EventTypes.AccessGranted : EventTypes.AccessRevoked;
                var course = o.Str("course_id") ?? o.Str("course.id")
                    ?? throw new MappingException("object.course_id: required, expected the id of the course");
                var enrollment = o.Str("id");
                return One(Event(canonical, $"{canonical}:{course}:{enrollment}:{eventId}", at, UserSubject(o)) with
                {
                    Access = new AccessInfo
                    {
                        ProductId = course,
                        ProductName = o.Str("course.name") ?? o.Str("course_name"),
                        EnrollmentId = enrollment,
                        ExpiresAt = OTime(o, "expires_at"),
                        // Teachable disables an enrollment on manual unenrollment, failed payment or expiry without saying which.
                        Reason = granted ? null : "unenrolled",
                    },
                });
            }
            case "Enrollment.completed":
                return new MapResult.Ignored("Teachable Enrollment.completed is course progress (100%), not a change of access");
            case "User.subscribe_to_marketing_emails":
            case "User.unsubscribe_from_marketing_emails":
            {
                var subscribed = type == "User.subscribe_to_marketing_emails";
                var canonical = subscribed ? EventTypes.Optin : EventTypes.Unsubscribe;
                return One(Event(canonical, $"{canonical}:{eventId}", at, UserSubject(o)) with
                {
                    Consent = [new ConsentInfo { Channel = "email", Granted = subscribed, Source = "teachable marketing emails", At = at }],
                });
            }
            case "EmailLead.created":
            {
                // The lead confirmed the subscription to the Email Leads Form list (docs: "has confirmed their subscription").
                var subject = o.Path("user") is not null ? UserSubject(o) : Subject.From(o.Str("email"), name: o.Str("name"));
                return One(Event(EventTypes.Optin, $"{EventTypes.Optin}:lead:{o.Str("id") ?? eventId}", at, subject) with
                {
                    Consent = [new ConsentInfo { Channel = "email", Granted = true, Source = "teachable email leads form", At = at, Confirmed = true }],
                });
            }
            case "UserTag.created":
            case "UserTag.removed":
            {
                var canonical = type == "UserTag.created" ? EventTypes.TagAdded : EventTypes.TagRemoved;
                var tag = o.Str("tag.name") ?? o.Str("tag_name") ?? o.Str("name")
                    ?? throw new MappingException("object.tag.name: required, expected the tag's name");
                return One(Event(canonical, $"{canonical}:{eventId}", at, UserSubject(o)) with { Tags = [tag] });
            }
            case "User.created":
                return new MapResult.Ignored("Teachable User.created carries no marketing consent (User.subscribe_to_marketing_emails does)");
            case "User.updated":
                return new MapResult.Ignored("Teachable User.updated carries the user's current state only, not the previous email, so an email change cannot be told apart");
            default:
                return new MapResult.Ignored($"Teachable event {type} is not one Junction uses");
        }
    }

    // JsonRead names a field relative to the object; quarantine reasons name it from the event.
    private static long? OWhole(JsonElement o, string path) => InObject(() => o.Whole(path));

    private static DateTimeOffset? OTime(JsonElement o, string path) => InObject(() => o.Time(path));

    private static T InObject<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (MappingException ex)
        {
            throw new MappingException("object." + ex.Message);
        }
    }

    private static MapResult.Mapped One(CanonicalEvent e) => new MapResult.Mapped([e]);

    private static string? Currency(JsonElement o, string path) =>
        o.Str(path) is { } code ? Money.Currency(code) ?? throw new MappingException($"object.{path}: expected a three-letter ISO 4217 code; got '{code}'") : null;

    // The user embedded in the object; user events carry the user as the object itself.
    private static Subject UserSubject(JsonElement o)
    {
        if (o.Path("user") is { ValueKind: JsonValueKind.Object } user)
        {
            return Subject.From(user.Str("email"), user.Str("id"), name: user.Str("name"));
        }
        return Subject.From(o.Str("email"), o.Str("user_id") ?? (o.Str("email") is not null ? o.Str("id") : null), name: o.Str("name"));
    }
}
