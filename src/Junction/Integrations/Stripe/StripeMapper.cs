using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Stripe;

/// <summary>
/// Stripe events → canonical events. The order id is the PaymentIntent (what a purchase, its refunds
/// and its disputes share); sessions, invoices and charges go into <see cref="OrderInfo.RelatedIds"/>.
/// Field semantics from the Stripe API reference: <c>amount_refunded</c> is cumulative, <c>refunded</c>
/// is true only when fully refunded, amounts are minor units, currencies lower case.
/// </summary>
public sealed class StripeMapper : IPayloadMapper
{
    public const string LineItemsKey = "line_items";

    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Stripe event", out var root, out var problem)) return problem;
        var type = root.Str("type");
        if (type is null) return new MapResult.Quarantined("type: required, expected a Stripe event type such as checkout.session.completed");
        return Mapping.Typed(type, () => MapType(raw, root, type));
    }

    private static MapResult MapType(RawInput raw, JsonElement root, string type)
    {
        if (root.Path("data.object") is not { ValueKind: JsonValueKind.Object } obj)
        {
            throw new MappingException("data.object: required, expected the event's object");
        }
        var eventId = root.RequiredStr("id");
        var occurred = root.UnixSeconds("created") ?? throw new MappingException("created: required, expected Unix seconds");
        var test = root.Bool("livemode") is false;

        CanonicalEvent Event(string canonical, Subject subject) => raw.Event(canonical, eventId, occurred, subject, test, type);

        switch (type)
        {
            case "checkout.session.completed":
            case "checkout.session.async_payment_succeeded":
            {
                var paymentStatus = obj.Str("payment_status");
                var canonical = paymentStatus is "paid" or "no_payment_required" ? EventTypes.OrderPaid : EventTypes.OrderPending;
                if (canonical == EventTypes.OrderPaid && raw.CanEnrich && !raw.Enrichment.ContainsKey(LineItemsKey))
                {
                    // Checkout events carry no line items: fetch them (Stripe API: list a session's line items).
                    return new MapResult.NeedsEnrichment([new EnrichmentRequest(LineItemsKey,
                        $"/v1/checkout/sessions/{Uri.EscapeDataString(obj.RequiredStr("id"))}/line_items?limit=100")]);
                }
                return Single(Event(canonical, SessionSubject(obj)) with
                {
                    Order = SessionOrder(obj, raw.Enrichment.TryGetValue(LineItemsKey, out var items) ? items : null),
                    Attribution = AttributionParser.FromValues(obj.StringMap("metadata")),
                });
            }
            case "checkout.session.async_payment_failed":
                return Single(Event(EventTypes.PaymentFailed, SessionSubject(obj)) with { Order = SessionOrder(obj, null) });
            case "checkout.session.expired":
                return Single(Event(EventTypes.CheckoutAbandoned, SessionSubject(obj)) with
                {
                    Order = SessionOrder(obj, null),
                    Attribution = AttributionParser.FromValues(obj.StringMap("metadata")),
                });

            case "payment_intent.succeeded":
                return Single(Event(EventTypes.OrderPaid, IntentSubject(obj)) with
                {
                    Order = IntentOrder(obj, obj.Whole("amount_received") ?? obj.Whole("amount")),
                    Attribution = AttributionParser.FromValues(obj.StringMap("metadata")),
                });
            case "payment_intent.processing":
            case "payment_intent.requires_action":
                return Single(Event(EventTypes.OrderPending, IntentSubject(obj)) with { Order = IntentOrder(obj, obj.Whole("amount")) });
            case "payment_intent.payment_failed":
                return Single(Event(EventTypes.PaymentFailed, IntentSubject(obj)) with { Order = IntentOrder(obj, obj.Whole("amount")) });

            case "charge.succeeded":
                if (obj.Bool("captured") is false)
                {
                    return new MapResult.Ignored("charge.succeeded for an uncaptured charge: authorized, not paid");
                }
                return Single(Event(EventTypes.OrderPaid, ChargeSubject(obj)) with { Order = ChargeOrder(obj, obj.Whole("amount_captured") ?? obj.Whole("amount")) });
            case "charge.refunded":
                return Single(Event(EventTypes.OrderRefunded, ChargeSubject(obj)) with { Order = ChargeRefund(root, obj) });
            case "refund.created":
            case "refund.updated":
            case "charge.refund.updated":
            {
                if (obj.Str("status") != "succeeded")
                {
                    return new MapResult.Ignored($"refund {obj.Str("id")} is {obj.Str("status") ?? "of unknown status"}, not succeeded");
                }
                var currency = Currency(obj);
                return Single(Event(EventTypes.OrderRefunded, new Subject()) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = obj.Str("payment_intent") ?? obj.RequiredStr("charge"),
                        Currency = currency,
                        RefundAmount = obj.RequiredLong("amount"),
                        RefundId = obj.Str("id"),
                        RelatedIds = Related(obj.Str("charge")),
                    },
                });
            }
            case "charge.dispute.created":
                return Single(Event(EventTypes.ChargebackOpened, new Subject()) with
                {
                    Order = DisputeOrder(obj),
                    Chargeback = Dispute(obj, outcome: null),
                });
            case "charge.dispute.closed":
            {
                var status = obj.Str("status");
                var outcome = status switch
                {
                    "won" or "warning_closed" => "won",
                    "lost" => "lost",
                    _ => throw new MappingException($"data.object.status: expected won, lost or warning_closed on a closed dispute; got '{status}'"),
                };
                return Single(Event(EventTypes.ChargebackClosed, new Subject()) with { Order = DisputeOrder(obj), Chargeback = Dispute(obj, outcome) });
            }

            case "customer.subscription.deleted":
                return Single(Event(EventTypes.SubscriptionCanceled, Subject.From(null, obj.Str("customer"))) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = obj.RequiredStr("id"),
                        Status = obj.Str("status"),
                        CanceledAt = obj.UnixSeconds("canceled_at"),
                        EndsAt = obj.UnixSeconds("ended_at"),
                        Reason = obj.Str("cancellation_details.reason"),
                    },
                    Order = SubscriptionItems(obj),
                });
            case "invoice.paid":
            case "invoice.payment_succeeded":
            {
                var reason = obj.Str("billing_reason");
                var canonical = reason == "subscription_cycle" ? EventTypes.SubscriptionRenewed : EventTypes.OrderPaid;
                return Single(Event(canonical, InvoiceSubject(obj)) with
                {
                    Order = InvoiceOrder(obj, obj.Whole("amount_paid")),
                    Subscription = InvoiceSubscription(obj) is { } sub ? new SubscriptionInfo { SubscriptionId = sub, Status = "active" } : null,
                });
            }
            case "invoice.payment_failed":
                return Single(Event(EventTypes.PaymentFailed, InvoiceSubject(obj)) with
                {
                    Order = InvoiceOrder(obj, obj.Whole("amount_due")),
                    Subscription = InvoiceSubscription(obj) is { } failedSub ? new SubscriptionInfo { SubscriptionId = failedSub, Status = "past_due" } : null,
                });
            default:
                return new MapResult.Ignored($"Stripe event type {type} is not one Junction uses");
        }
    }

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);

    private static string? Currency(JsonElement obj) => Money.Currency(obj.Str("currency"));

    private static string[] Related(params string?[] ids) => ids.Where(i => !string.IsNullOrEmpty(i)).Distinct().ToArray()!;

    private static Subject SessionSubject(JsonElement s) => Subject.From(
        s.Str("customer_details.email") ?? s.Str("customer_email"),
        s.Str("customer"),
        s.Str("client_reference_id"),
        s.Str("customer_details.phone"),
        s.Str("customer_details.name"));

    private static OrderInfo SessionOrder(JsonElement s, JsonElement? lineItems)
    {
        var items = lineItems is { } li
            ? li.Array("data").Select(i => new OrderItem
            {
                PriceId = i.Str("price.id"),
                ProductId = i.Str("price.product"),
                Sku = i.Str("price.lookup_key") ?? i.Str("price.product"),
                Name = i.Str("description"),
                Quantity = (int)(i.Whole("quantity") ?? 1),
                Amount = i.Whole("amount_total"),
            }).ToList()
            : [];
        return new OrderInfo
        {
            OrderId = s.Str("payment_intent") ?? s.Str("invoice") ?? s.RequiredStr("id"),
            Amount = s.Whole("amount_total"),
            Currency = Currency(s),
            Items = items,
            RelatedIds = Related(s.Str("id"), s.Str("invoice"), s.Str("subscription")),
        };
    }

    private static Subject IntentSubject(JsonElement pi) => Subject.From(pi.Str("receipt_email"), pi.Str("customer"));

    private static OrderInfo IntentOrder(JsonElement pi, long? amount) => new()
    {
        OrderId = pi.RequiredStr("id"),
        Amount = amount,
        Currency = Currency(pi),
        Items = IntentItems(pi, amount),
        RelatedIds = Related(pi.Str("latest_charge"), pi.Str("invoice")),
    };

    // A PaymentIntent has no line items. A custom checkout (and `junction smoke`) names what was
    // bought in its metadata: price, product or sku, matched by `products:` like a line item.
    private static IReadOnlyList<OrderItem> IntentItems(JsonElement pi, long? amount)
    {
        var metadata = pi.StringMap("metadata");
        string? Value(string key) => metadata.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        var (price, product, sku) = (Value("price"), Value("product"), Value("sku"));
        return price is null && product is null && sku is null ? [] : [new OrderItem { PriceId = price, ProductId = product, Sku = sku, Amount = amount }];
    }

    private static Subject ChargeSubject(JsonElement ch) => Subject.From(
        ch.Str("billing_details.email") ?? ch.Str("receipt_email"), ch.Str("customer"),
        phone: ch.Str("billing_details.phone"), name: ch.Str("billing_details.name"));

    private static OrderInfo ChargeOrder(JsonElement ch, long? amount) => new()
    {
        OrderId = ch.Str("payment_intent") ?? ch.RequiredStr("id"),
        Amount = amount,
        Currency = Currency(ch),
        RelatedIds = Related(ch.Str("id"), ch.Str("invoice")),
    };

    private static OrderInfo ChargeRefund(JsonElement root, JsonElement ch)
    {
        // amount_refunded is cumulative; this event's share is the change from previous_attributes,
        // else the newest refund in the embedded list, else (no history given) all of it.
        var total = ch.RequiredLong("amount_refunded");
        var newest = ch.Array("refunds.data").FirstOrDefault();
        long refunded;
        if (root.Whole("data.previous_attributes.amount_refunded") is { } previous) refunded = total - previous;
        else if (newest.ValueKind == JsonValueKind.Object && newest.Whole("amount") is { } latest) refunded = latest;
        else refunded = total;
        return ChargeOrder(ch, ch.Whole("amount")) with
        {
            RefundAmount = refunded,
            RefundedTotal = total,
            FullyRefunded = ch.Bool("refunded") ?? false,
            RefundId = newest.ValueKind == JsonValueKind.Object ? newest.Str("id") : null,
        };
    }

    private static OrderInfo DisputeOrder(JsonElement dp) => new()
    {
        OrderId = dp.Str("payment_intent") ?? dp.RequiredStr("charge"),
        Amount = dp.Whole("amount"),
        Currency = Currency(dp),
        RelatedIds = Related(dp.Str("charge")),
    };

    private static ChargebackInfo Dispute(JsonElement dp, string? outcome) => new()
    {
        DisputeId = dp.RequiredStr("id"),
        Status = dp.Str("status"),
        Outcome = outcome,
        Reason = dp.Str("reason"),
        Amount = dp.Whole("amount"),
        Currency = Currency(dp),
    };

    private static OrderInfo? SubscriptionItems(JsonElement sub)
    {
        var items = sub.Array("items.data").Select(i => new OrderItem
        {
            PriceId = i.Str("price.id"),
            ProductId = i.Str("price.product"),
            Sku = i.Str("price.lookup_key") ?? i.Str("price.product"),
            Quantity = (int)(i.Whole("quantity") ?? 1),
            Amount = i.Whole("price.unit_amount"),
        }).ToList();
        return items.Count == 0 ? null : new OrderInfo { OrderId = sub.RequiredStr("id"), Items = items, Currency = Currency(sub) };
    }

    private static Subject InvoiceSubject(JsonElement inv) => Subject.From(inv.Str("customer_email"), inv.Str("customer"), name: inv.Str("customer_name"));

    // Older API versions put the subscription on the invoice; 2025 versions under parent.subscription_details.
    private static string? InvoiceSubscription(JsonElement inv) =>
        inv.Str("subscription") ?? inv.Str("parent.subscription_details.subscription");

    private static OrderInfo InvoiceOrder(JsonElement inv, long? amount) => new()
    {
        OrderId = inv.Str("payment_intent") ?? inv.RequiredStr("id"),
        Amount = amount,
        Currency = Currency(inv),
        Items = inv.Array("lines.data").Select(l => new OrderItem
        {
            PriceId = l.Str("price.id") ?? l.Str("pricing.price_details.price"),
            ProductId = l.Str("price.product") ?? l.Str("pricing.price_details.product"),
            Sku = l.Str("price.lookup_key") ?? l.Str("price.product") ?? l.Str("pricing.price_details.product"),
            Name = l.Str("description"),
            Quantity = (int)(l.Whole("quantity") ?? 1),
            Amount = l.Whole("amount"),
        }).ToList(),
        RelatedIds = Related(inv.Str("id"), inv.Str("charge"), InvoiceSubscription(inv)),
    };
}
