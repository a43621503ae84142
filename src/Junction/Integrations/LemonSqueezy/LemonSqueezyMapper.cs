using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.LemonSqueezy;

/// <summary>
/// Lemon Squeezy webhooks (a JSON:API resource plus <c>meta</c>) → canonical events, by
/// <c>meta.event_name</c>. Order events carry an order (docs.lemonsqueezy.com/api/orders): the order
/// id is <c>data.id</c>, amounts are integer cents, <c>currency</c> upper case, times UTC.
/// Subscription payment events carry a subscription invoice, whose id names the charge; subscription
/// events a subscription, whose <c>order_id</c> names the first order. <c>meta.custom_data</c> (from
/// the checkout) gives the purchase token and utm_*; <c>meta.test_mode</c> the test flag.
/// </summary>
public sealed class LemonSqueezyMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Lemon Squeezy webhook", out var root, out var problem)) return problem;
        var name = root.Str("meta.event_name") ?? raw.Header(LemonSqueezyProvider.EventHeader);
        if (name is null) return new MapResult.Quarantined("meta.event_name: required, expected an event name such as order_created");
        return Mapping.Typed(name, () => MapEvent(raw, root, name));
    }

    private static MapResult MapEvent(RawInput raw, JsonElement root, string name)
    {
        if (root.Path("data.attributes") is not { ValueKind: JsonValueKind.Object } a)
        {
            throw new MappingException("data.attributes: required, expected the resource's attributes");
        }
        var id = root.RequiredStr("data.id");
        var test = root.Bool("meta.test_mode") ?? a.Bool("test_mode") ?? false;
        var custom = root.StringMap("meta.custom_data");
        var subject = Subject.From(a.Str("user_email"), a.Str("customer_id"), custom.GetValueOrDefault("purchase_token"), name: a.Str("user_name"));
        var attribution = AttributionParser.FromValues(custom);

        CanonicalEvent Event(string type, string factKey, DateTimeOffset at) =>
            raw.Event(type, factKey, at, subject, test, name) with { Attribution = attribution };

        switch (name)
        {
            case "order_created":
            {
                var status = a.Str("status");
                var type = status switch
                {
                    // An order created already refunded was paid first.
                    "paid" or "refunded" or "partial_refund" => EventTypes.OrderPaid,
                    "pending" => EventTypes.OrderPending,
                    "failed" => EventTypes.PaymentFailed,
                    _ => throw new MappingException($"data.attributes.status: expected paid, pending, failed or refunded; got '{status}'"),
                };
                return Single(Event(type, $"{type}:{id}", Created(a)) with { Order = Order(a, id) });
            }
            case "order_refunded":
            case "subscription_payment_refunded":
            {
                // Lemon Squeezy reports only the cumulative refunded_amount (no refund object, no id,
                // no previous amount): it is refunded_total. What this one refund was is the difference
                // from the order's previous refunded_total, which the payload does not carry, so
                // refund_amount stays null rather than overstate a later partial refund.
                var refunded = a.Whole("refunded_amount")
                    ?? (a.Bool("refunded") is true ? a.Whole("total") : null)
                    ?? throw new MappingException("data.attributes.refunded_amount: required, expected whole cents");
                var at = a.Time("refunded_at") ?? a.Time("updated_at") ?? throw new MappingException("data.attributes.refunded_at: required, expected an ISO-8601 time");
                return Single(Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{id}:{refunded}", at) with
                {
                    Order = Order(a, id) with
                    {
                        RefundAmount = null,
                        RefundedTotal = refunded,
                        FullyRefunded = a.Str("status") == "refunded",
                    },
                    Attribution = null,
                });
            }
            case "subscription_payment_success":
            {
                var reason = a.Str("billing_reason");
                if (reason != "renewal")
                {
                    return new MapResult.Ignored(reason == "initial"
                        ? "the initial subscription payment is reported as order_created"
                        : $"subscription payment with billing_reason '{reason}' is not a renewal");
                }
                if (a.Str("status") != "paid") return new MapResult.Ignored($"subscription invoice {id} is {a.Str("status")}, not paid");
                return Single(Event(EventTypes.SubscriptionRenewed, $"{EventTypes.SubscriptionRenewed}:{id}", Created(a)) with
                {
                    Order = Order(a, id),
                    Subscription = new SubscriptionInfo { SubscriptionId = a.RequiredStr("subscription_id"), Status = "active" },
                });
            }
            case "subscription_payment_failed":
                return Single(Event(EventTypes.PaymentFailed, $"{EventTypes.PaymentFailed}:{id}", a.Time("updated_at") ?? Created(a)) with
                {
                    Order = Order(a, id),
                    Subscription = new SubscriptionInfo { SubscriptionId = a.RequiredStr("subscription_id"), Status = "past_due" },
                });
            case "subscription_cancelled":
            case "subscription_expired":
            {
                // cancelled: the buyer or seller cancelled, access runs to ends_at; expired: it has ended.
                var expired = name == "subscription_expired";
                var at = a.Time("updated_at") ?? throw new MappingException("data.attributes.updated_at: required, expected an ISO-8601 time");
                return Single(Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{id}:{(expired ? "expired" : "cancelled")}", at) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = id,
                        Status = a.Str("status"),
                        CanceledAt = expired ? null : at,
                        EndsAt = a.Time("ends_at"),
                    },
                    Order = new OrderInfo
                    {
                        OrderId = a.RequiredStr("order_id"),
                        Items = [new OrderItem
                        {
                            ProductId = a.Str("product_id"),
                            PriceId = a.Str("variant_id"),
                            Sku = a.Str("variant_id"),
                            Name = a.Str("product_name"),
                        }],
                        RelatedIds = [id],
                    },
                    Attribution = null,
                });
            }
            default:
                return new MapResult.Ignored($"Lemon Squeezy event {name} is not one Junction uses");
        }
    }

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);

    private static DateTimeOffset Created(JsonElement a) =>
        a.Time("created_at") ?? throw new MappingException("data.attributes.created_at: required, expected an ISO-8601 time");

    private static OrderInfo Order(JsonElement a, string orderId)
    {
        var currency = Money.Currency(a.Str("currency"));
        var items = a.Path("first_order_item") is { ValueKind: JsonValueKind.Object } item
            ? new[]
            {
                new OrderItem
                {
                    ProductId = item.Str("product_id"),
                    PriceId = item.Str("variant_id"),
                    // A variant is what a buyer picks and pays for; it is the closest thing to a SKU.
                    Sku = item.Str("variant_id"),
                    Name = item.Str("product_name"),
                    Quantity = (int)(item.Whole("quantity") ?? 1),
                    // "the price of this order item" in cents (docs.lemonsqueezy.com/api/order-items).
                    Amount = item.Whole("price"),
                },
            }
            : [];
        var related = new List<string>();
        if (a.Str("identifier") is { } uuid) related.Add(uuid);
        if (a.Str("order_number") is { } number) related.Add(number);
        if (a.Str("subscription_id") is { } sub) related.Add(sub);
        return new OrderInfo
        {
            OrderId = orderId,
            Amount = a.RequiredLong("total"),
            Currency = currency,
            Items = items,
            RelatedIds = related,
        };
    }
}
