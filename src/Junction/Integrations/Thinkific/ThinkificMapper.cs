using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Thinkific;

/// <summary>
/// Thinkific webhooks → canonical events, by <c>resource</c>.<c>action</c> (the topic). Follows
/// support.thinkific.dev "Webhooks Documentation" (article 4422658311703): every delivery is an
/// envelope <c>{id, resource, action, tenant_id, created_at, payload}</c>; <c>created_at</c> is when
/// the event fired and becomes <c>occurred_at</c>. Orders carry <c>amount_cents</c> (minor units) and
/// no currency; enrollments carry <c>course{id,name}</c>, <c>course_id</c>, <c>expiry_date</c> and
/// <c>user{id,email,first_name,last_name}</c>. The Thinkific Payments topics
/// (<c>order_transaction.*</c>, <c>subscription.*</c>) nest the order and name it by <c>order.id</c>,
/// the same id <c>order.created</c> sends as <c>payload.id</c>.
/// </summary>
public sealed class ThinkificMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Thinkific webhook", out var root, out var problem)) return problem;
        if (root.ValueKind != JsonValueKind.Object) return new MapResult.Quarantined("body: expected a JSON object (the Thinkific webhook envelope)");

        var resource = root.Str("resource");
        var action = root.Str("action");
        var topic = resource is not null && action is not null ? $"{resource}.{action}" : raw.Header(ThinkificProvider.TopicHeader);
        if (topic is null) return new MapResult.Quarantined("resource: required, expected the topic's model (e.g. enrollment) with action (e.g. created)");
        topic = topic.ToLowerInvariant();
        return Mapping.Typed(topic, () => MapTopic(raw, root, topic));
    }

    private static MapResult MapTopic(RawInput raw, JsonElement root, string topic)
    {
        switch (topic)
        {
            case "order.created":
                return Single(Order(raw, root, topic));
            case "order_transaction.refunded":
                return Single(Refund(raw, root, topic));
            case "order_transaction.failed":
            {
                var (p, id, at) = Envelope(root);
                var orderId = p.Str("order.id") ?? p.Str("order_id") ?? throw new MappingException("payload.order.id: required, expected the id of the order the transaction belongs to");
                var e = raw.Event(EventTypes.PaymentFailed, $"{EventTypes.PaymentFailed}:{p.Str("id") ?? id}", at, UserSubject(p, "order.user") ?? UserSubject(p, "user") ?? new Subject(), providerType: topic) with
                {
                    Order = new OrderInfo { OrderId = orderId, Currency = Money.Currency(p.Str("currency")) },
                };
                return Single(e);
            }
            case "subscription.cancelled":
            case "subscription.canceled":
            {
                var (p, _, at) = Envelope(root);
                var sub = p.Str("id") ?? throw new MappingException("payload.id: required, expected the subscription id");
                var e = raw.Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{sub}", PayloadTime(p, "cancelled_at") ?? at,
                    UserSubject(p, "user") ?? new Subject(), providerType: topic) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = sub,
                        Status = "cancelled",
                        CanceledAt = PayloadTime(p, "cancelled_at") ?? at,
                        EndsAt = PayloadTime(p, "scheduled_cancellation_at"),
                    },
                };
                return Single(e);
            }
            case "enrollment.created":
                return Single(Enrollment(raw, root, topic, EventTypes.AccessGranted, reason: null));
            // Not in Thinkific's documented topic list; mapped in case a site or a newer API sends them,
            // because an ended enrollment is exactly what access.revoked records.
            case "enrollment.expired":
            case "enrollment.deleted":
            case "enrollment.unenrolled":
                return Single(Enrollment(raw, root, topic, EventTypes.AccessRevoked, reason: topic["enrollment.".Length..]));
            case "enrollment.completed":
                return new MapResult.Ignored("Thinkific enrollment.completed is course progress (100%), not a change of access; the enrollment keeps its access");
            case "enrollment.progress":
            case "enrollment.trial":
                return new MapResult.Ignored($"Thinkific {topic} changes no access Junction tracks (trials are previews, not paid access)");
            case "lead.created":
            {
                var (p, id, at) = Envelope(root);
                // A lead captured with the marketing box ticked carries subscribed: true; without it there is no consent to record.
                if (p.Bool("subscribed") is not true) return new MapResult.Ignored("Thinkific lead.created without subscribed: true records no consent");
                var email = p.Str("email") ?? throw new MappingException("payload.email: required on a subscribed lead");
                var e = raw.Event(EventTypes.Optin, $"{EventTypes.Optin}:lead:{p.Str("id") ?? id}", at,
                    Subject.From(email, name: FullName(p.Str("first_name"), p.Str("last_name"))), providerType: topic) with
                {
                    Consent = [new ConsentInfo { Channel = "email", Granted = true, Source = "thinkific lead", At = at }],
                };
                return Single(e);
            }
            case "user.signup":
                return new MapResult.Ignored("Thinkific user.signup carries no marketing consent, so it is no opt-in; the person is known from their enrollments and orders");
            case "user.updated":
            {
                var (p, id, at) = Envelope(root);
                // The documented payload is the user's new state only; an email change is recognisable only
                // when the previous address is sent along.
                var previous = p.Str("previous_email") ?? p.Str("old_email");
                var email = p.Str("email");
                if (previous is null || email is null || Identifiers.NormalizeEmail(previous) == Identifiers.NormalizeEmail(email))
                {
                    return new MapResult.Ignored("Thinkific user.updated carries only the user's current state, not the previous email, so an email change cannot be told apart");
                }
                var subject = Subject.From(email, p.Str("id"), name: FullName(p.Str("first_name"), p.Str("last_name"))) with { PreviousEmail = Identifiers.NormalizeEmail(previous) };
                return Single(raw.Event(EventTypes.EmailChanged, $"{EventTypes.EmailChanged}:{id}", at, subject, providerType: topic));
            }
            case "order_transaction.succeeded":
                return new MapResult.Ignored("Thinkific order_transaction.succeeded repeats a charge of an order that order.created already reports");
            default:
                return new MapResult.Ignored($"Thinkific topic {topic} is not one Junction uses");
        }
    }

    private static (JsonElement Payload, string Id, DateTimeOffset At) Envelope(JsonElement root)
    {
        if (root.Path("payload") is not { ValueKind: JsonValueKind.Object } payload)
        {
            throw new MappingException("payload: required, expected the topic's object");
        }
        var id = root.RequiredStr("id");
        var at = root.Time("created_at") ?? throw new MappingException("created_at: required, expected an ISO-8601 time");
        return (payload, id, at);
    }

    // JsonRead names the field relative to the payload; quarantine reasons name it from the body's root.
    private static DateTimeOffset? PayloadTime(JsonElement p, string path) => InPayload(() => p.Time(path));

    private static long? PayloadWhole(JsonElement p, string path) => InPayload(() => p.Whole(path));

    private static T InPayload<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (MappingException ex)
        {
            throw new MappingException("payload." + ex.Message);
        }
    }

    private static CanonicalEvent Order(RawInput raw, JsonElement root, string topic)
    {
        var (p, _, at) = Envelope(root);
        var orderId = p.Str("id") ?? throw new MappingException("payload.id: required, expected the order id");
        var cents = PayloadWhole(p, "amount_cents");
        var item = new OrderItem
        {
            ProductId = p.Str("product_id"),
            Name = p.Str("product_name"),
            Amount = cents,
        };
        return raw.Event(EventTypes.OrderPaid, $"{EventTypes.OrderPaid}:{orderId}", at, UserSubject(p, "user") ?? FlatUser(p), providerType: topic) with
        {
            Order = new OrderInfo
            {
                OrderId = orderId,
                Amount = cents,
                // order.created documents no currency; the site's currency is not in the payload.
                Currency = Money.Currency(p.Str("currency")),
                Items = [item],
                RelatedIds = p.Str("order_number") is { } number ? [number] : [],
            },
        };
    }

    private static CanonicalEvent Refund(RawInput raw, JsonElement root, string topic)
    {
        var (p, id, at) = Envelope(root);
        var orderId = p.Str("order.id") ?? p.Str("order_id")
            ?? throw new MappingException("payload.order.id: required, expected the id of the refunded order (the order.created payload.id)");
        var transaction = p.Str("id") ?? id;
        var currency = Money.Currency(p.Str("currency"));
        var refunded = Amount(p, "refunded_amount", currency) ?? Amount(p, "amount", currency)
            ?? throw new MappingException("payload.refunded_amount: required, expected the refunded amount");
        return raw.Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{transaction}:{refunded}", at,
            UserSubject(p, "order.user") ?? UserSubject(p, "user") ?? new Subject(), providerType: topic) with
        {
            Order = new OrderInfo
            {
                OrderId = orderId,
                Amount = PayloadWhole(p, "order.amount_cents"),
                Currency = currency,
                RefundAmount = refunded,
                RefundId = transaction,
                RelatedIds = p.Str("order.order_number") is { } number ? [number] : [],
            },
        };
    }

    private static CanonicalEvent Enrollment(RawInput raw, JsonElement root, string topic, string type, string? reason)
    {
        var (p, id, at) = Envelope(root);
        var course = p.Str("course.id") ?? p.Str("course_id")
            ?? throw new MappingException("payload.course.id: required, expected the id of the enrolled course");
        var enrollment = p.Str("id");
        var subject = UserSubject(p, "user") ?? new Subject { CustomerId = p.Str("user_id") };
        return raw.Event(type, $"{type}:{course}:{enrollment ?? id}:{id}", at, subject, providerType: topic) with
        {
            Access = new AccessInfo
            {
                ProductId = course,
                ProductName = p.Str("course.name") ?? p.Str("course_name"),
                EnrollmentId = enrollment,
                ExpiresAt = PayloadTime(p, "expiry_date"),
                Reason = reason,
            },
        };
    }

    // The docs state no unit for transaction amounts. Thinkific Payments settles through Stripe in
    // minor units (as amount_cents on orders), so a whole number is read as minor units; a decimal
    // ("20.00", 20.5) can only be major units and is converted exactly with the currency's exponent.
    private static long? Amount(JsonElement p, string path, string? currency)
    {
        if (p.Path(path) is not { } v) return null;
        var text = v.ValueKind switch
        {
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.String => v.GetString(),
            _ => throw new MappingException($"payload.{path}: expected an amount"),
        };
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!text.Contains('.', StringComparison.Ordinal))
        {
            return Money.FromMinor(text) ?? throw new MappingException($"payload.{path}: expected an amount; got '{text}'");
        }
        return Money.FromMajor(text, currency ?? "USD") ?? throw new MappingException($"payload.{path}: expected an amount; got '{text}'");
    }

    private static Subject? UserSubject(JsonElement p, string path)
    {
        if (p.Path(path) is not { ValueKind: JsonValueKind.Object } user) return null;
        return Subject.From(user.Str("email"), user.Str("id"), name: FullName(user.Str("first_name"), user.Str("last_name")) ?? user.Str("name"));
    }

    private static Subject FlatUser(JsonElement p) =>
        Subject.From(p.Str("user_email"), p.Str("user_id"), name: p.Str("user_name") ?? p.Str("billing_name"));

    private static string? FullName(string? first, string? last)
    {
        var name = $"{first} {last}".Trim();
        return name.Length == 0 ? null : name;
    }

    private static MapResult.Mapped Single(CanonicalEvent e) => new MapResult.Mapped([e]);
}
