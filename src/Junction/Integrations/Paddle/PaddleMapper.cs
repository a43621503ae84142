using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Paddle;

/// <summary>
/// Paddle Billing notifications → canonical events, by <c>event_type</c>. The order id is the
/// transaction (<c>txn_…</c>), which its refunds and chargebacks (adjustments) name in
/// <c>transaction_id</c>. Amounts are strings in minor units. Transactions carry no email, only
/// <c>customer_id</c>: with an API key, the customer is fetched (<c>GET /customers/{id}</c>) for
/// order.paid and subscription.renewed. Paddle payloads carry no live/sandbox flag and sandbox ids
/// look like live ones, so test_mode comes from the source: true when its <c>api_base_url</c> is
/// Paddle's sandbox API (<c>sandbox-api.paddle.com</c>), as a sandbox account's source must set it.
/// </summary>
public sealed class PaddleMapper : IPayloadMapper
{
    public const string CustomerKey = "customer";

    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Paddle notification", out var root, out var problem)) return problem;
        var type = root.Str("event_type");
        if (type is null) return new MapResult.Quarantined("event_type: required, expected a Paddle event type such as transaction.completed");
        return Mapping.Typed(type, () => MapType(raw, root, type));
    }

    private static MapResult MapType(RawInput raw, JsonElement root, string type)
    {
        if (root.Path("data") is not { ValueKind: JsonValueKind.Object } d)
        {
            throw new MappingException("data: required, expected the event's entity");
        }
        var eventId = root.RequiredStr("event_id");
        var occurred = root.Time("occurred_at") ?? throw new MappingException("occurred_at: required, expected an RFC 3339 time");
        var test = IsSandbox(raw);
        return MapEntity(raw, root, type, d, eventId, occurred) switch
        {
            MapResult.Mapped m => new MapResult.Mapped(m.Events.Select(e => e with { TestMode = test }).ToList()),
            var other => other,
        };
    }

    /// <summary>A source whose api_base_url names Paddle's sandbox host receives sandbox notifications.</summary>
    private static bool IsSandbox(RawInput raw) =>
        Uri.TryCreate(raw.ApiBaseUrl, UriKind.Absolute, out var u) && u.Host.StartsWith("sandbox-", StringComparison.OrdinalIgnoreCase)
        && u.Host.EndsWith("paddle.com", StringComparison.OrdinalIgnoreCase);

    private static MapResult MapEntity(RawInput raw, JsonElement root, string type, JsonElement d, string eventId, DateTimeOffset occurred)
    {

        switch (type)
        {
            case "transaction.completed":
            case "transaction.paid":
            {
                var id = d.RequiredStr("id");
                var origin = d.Str("origin");
                if (origin == "subscription_payment_method_change")
                {
                    return new MapResult.Ignored("a zero-amount transaction that only changed the payment method");
                }
                var customerId = d.Str("customer_id");
                if (customerId is not null && raw.CanEnrich && !raw.Enrichment.ContainsKey(CustomerKey))
                {
                    return new MapResult.NeedsEnrichment([new EnrichmentRequest(CustomerKey, $"/customers/{Uri.EscapeDataString(customerId)}")]);
                }
                // transaction.paid and transaction.completed report one payment: one fact.
                var canonical = origin == "subscription_recurring" ? EventTypes.SubscriptionRenewed : EventTypes.OrderPaid;
                var customer = raw.Enrichment.TryGetValue(CustomerKey, out var c) ? c : (JsonElement?)null;
                return Single(raw.Event(canonical, $"{canonical}:{id}", occurred, TransactionSubject(d, customer), providerType: type) with
                {
                    Order = TransactionOrder(d),
                    Attribution = AttributionParser.FromValues(d.StringMap("custom_data")),
                    Subscription = d.Str("subscription_id") is { } sub ? new SubscriptionInfo { SubscriptionId = sub, Status = "active" } : null,
                });
            }
            case "transaction.payment_failed":
                // Each failed attempt is its own fact; a retried delivery keeps its event id.
                return Single(raw.Event(EventTypes.PaymentFailed, eventId, occurred, TransactionSubject(d, null), providerType: type) with
                {
                    Order = TransactionOrder(d),
                    Subscription = d.Str("subscription_id") is { } failedSub ? new SubscriptionInfo { SubscriptionId = failedSub, Status = "past_due" } : null,
                });
            case "adjustment.created":
            case "adjustment.updated":
                return Adjustment(raw, d, occurred, type);
            case "subscription.canceled":
            {
                var id = d.RequiredStr("id");
                return Single(raw.Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{id}", occurred,
                    Subject.From(null, d.Str("customer_id"), d.Str("custom_data.purchase_token")), providerType: type) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = id,
                        Status = d.Str("status"),
                        CanceledAt = d.Time("canceled_at"),
                        // A canceled Paddle subscription has ended; a scheduled cancel is subscription.updated.
                        EndsAt = d.Time("canceled_at"),
                    },
                    Order = new OrderInfo
                    {
                        OrderId = id,
                        Currency = Money.Currency(d.Str("currency_code")),
                        Items = d.Array("items").Select(i => new OrderItem
                        {
                            PriceId = i.Str("price.id"),
                            ProductId = i.Str("price.product_id"),
                            Sku = i.Str("price.product_id"),
                            Name = i.Str("product.name") ?? i.Str("price.name") ?? i.Str("price.description"),
                            Quantity = (int)(i.Whole("quantity") ?? 1),
                        }).ToList(),
                    },
                });
            }
            default:
                return new MapResult.Ignored($"Paddle event type {type} is not one Junction uses");
        }
    }

    /// <summary>
    /// Refunds and chargebacks are adjustments to a transaction. A refund counts only once Paddle has
    /// approved it (most live refunds start as pending_approval; adjustment.updated reports the
    /// decision), so created and updated for the same adjustment are one fact.
    /// </summary>
    private static MapResult Adjustment(RawInput raw, JsonElement d, DateTimeOffset occurred, string type)
    {
        var id = d.RequiredStr("id");
        var action = d.Str("action");
        var status = d.Str("status");
        var transaction = d.RequiredStr("transaction_id");
        var currency = Money.Currency(d.Str("currency_code") ?? d.Str("totals.currency_code"));
        var amount = Minor(d, "totals.total");
        var subject = Subject.From(null, d.Str("customer_id"));
        var order = new OrderInfo
        {
            OrderId = transaction,
            Currency = currency,
            RelatedIds = d.Str("subscription_id") is { } sub ? [id, sub] : [id],
        };
        switch (action)
        {
            case "refund":
                if (status != "approved")
                {
                    return new MapResult.Ignored($"refund adjustment {id} is {status ?? "of unknown status"}, not approved");
                }
                return Single(raw.Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{id}", occurred, subject, providerType: type) with
                {
                    Order = order with
                    {
                        RefundAmount = amount ?? throw new MappingException("data.totals.total: required, expected an amount in minor units"),
                        RefundId = id,
                        // type full adjusts the transaction's grand total; partial names items.
                        FullyRefunded = d.Str("type") == "full",
                    },
                });
            case "chargeback":
            case "chargeback_reverse":
            {
                var reversed = action == "chargeback_reverse";
                var canonical = reversed ? EventTypes.ChargebackClosed : EventTypes.ChargebackOpened;
                return Single(raw.Event(canonical, $"{canonical}:{id}", occurred, subject, providerType: type) with
                {
                    Order = order,
                    Chargeback = new ChargebackInfo
                    {
                        // Paddle has no dispute object: the disputed transaction names the dispute, so
                        // the chargeback and its reversal (two adjustments) close the same one.
                        DisputeId = transaction,
                        Status = reversed ? "won" : "open",
                        Outcome = reversed ? "won" : null,
                        Reason = d.Str("reason"),
                        Amount = amount,
                        Currency = currency,
                    },
                });
            }
            default:
                return new MapResult.Ignored($"adjustment action {action ?? "(none)"} is neither a refund nor a chargeback");
        }
    }

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);

    private static long? Minor(JsonElement e, string path, string where = "data.")
    {
        var text = e.Str(path);
        if (text is null) return null;
        return Money.FromMinor(text) ?? throw new MappingException($"{where}{path}: expected an amount in minor units as a string; got '{text}'");
    }

    private static Subject TransactionSubject(JsonElement d, JsonElement? customer) => Subject.From(
        customer?.Str("data.email"),
        d.Str("customer_id"),
        d.Str("custom_data.purchase_token"),
        name: customer?.Str("data.name"));

    private static OrderInfo TransactionOrder(JsonElement d)
    {
        var lines = d.Array("details.line_items").ToList();
        var items = lines.Count > 0
            ? lines.Select(l => new OrderItem
            {
                PriceId = l.Str("price_id"),
                ProductId = l.Str("product.id"),
                Sku = l.Str("product.id"),
                Name = l.Str("product.name"),
                Quantity = (int)(l.Whole("quantity") ?? 1),
                Amount = Minor(l, "totals.total", "data.details.line_items[]."),
            }).ToList()
            : d.Array("items").Select(i => new OrderItem
            {
                PriceId = i.Str("price.id"),
                ProductId = i.Str("price.product_id"),
                Sku = i.Str("price.product_id"),
                Name = i.Str("price.name") ?? i.Str("price.description"),
                Quantity = (int)(i.Whole("quantity") ?? 1),
            }).ToList();
        var related = new List<string>();
        foreach (var path in (string[])["invoice_id", "invoice_number", "subscription_id"])
        {
            if (d.Str(path) is { } v) related.Add(v);
        }
        return new OrderInfo
        {
            OrderId = d.RequiredStr("id"),
            Amount = Minor(d, "details.totals.grand_total") ?? Minor(d, "details.totals.total"),
            Currency = Money.Currency(d.Str("currency_code") ?? d.Str("details.totals.currency_code")),
            Items = items,
            RelatedIds = related,
        };
    }
}
