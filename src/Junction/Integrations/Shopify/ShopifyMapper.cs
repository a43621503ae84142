using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Shopify;

/// <summary>
/// Shopify webhooks → canonical events, by the <c>X-Shopify-Topic</c> header. Fact keys name the
/// order or refund, not the delivery, so orders/create + orders/paid, or a webhook and a backfilled
/// order, give one event. Prices are decimal strings; times carry the shop's offset, which is kept.
/// </summary>
public sealed class ShopifyMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        var topic = raw.Header("x-shopify-topic");
        if (topic is null) return new MapResult.Quarantined("header X-Shopify-Topic: required, expected a topic such as orders/paid");
        JsonElement root;
        try
        {
            root = raw.Json();
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected a Shopify resource as JSON ({ex.Message})") { ProviderType = topic };
        }
        return Mapping.Typed(topic, () => MapTopic(raw, root, topic));
    }

    private static MapResult MapTopic(RawInput raw, JsonElement o, string topic)
    {
        var test = o.Bool("test") ?? false;
        switch (topic)
        {
            case "orders/paid":
                return Order(raw, o, EventTypes.OrderPaid, test, topic);
            case "orders/create":
                return o.Str("financial_status") switch
                {
                    "paid" => Order(raw, o, EventTypes.OrderPaid, test, topic),
                    "pending" or "authorized" or "partially_paid" => Order(raw, o, EventTypes.OrderPending, test, topic),
                    var s => new MapResult.Ignored($"orders/create with financial_status '{s}' changes nothing"),
                };
            case "orders/fulfilled":
                return Order(raw, o, EventTypes.OrderFulfilled, test, topic);
            case "fulfillments/create":
            {
                var orderId = o.RequiredStr("order_id");
                var e = raw.Event(EventTypes.OrderFulfilled, $"{EventTypes.OrderFulfilled}:{orderId}",
                    o.Time("created_at") ?? raw.ReceivedAt, Subject.From(o.Str("email")), test, topic);
                return new MapResult.Mapped([e with { Order = new OrderInfo { OrderId = orderId } }]);
            }
            case "refunds/create":
                return Refund(raw, o, test, topic);
            case "checkouts/create":
            {
                var token = o.RequiredStr("token");
                var e = raw.Event(EventTypes.CheckoutStarted, $"{EventTypes.CheckoutStarted}:{token}",
                    o.Time("created_at") ?? raw.ReceivedAt, Subject.From(o.Str("email"), o.Str("customer.id"), phone: o.Str("phone")), test, topic);
                return new MapResult.Mapped([e with
                {
                    Order = new OrderInfo { OrderId = token, Amount = Price(o, "total_price"), Currency = Money.Currency(o.Str("currency")), Items = Items(o) },
                    Attribution = AttributionParser.FromUrl(o.Str("landing_site"), o.Str("referring_site")),
                }]);
            }
            case "disputes/create":
            case "disputes/update":
            {
                var status = o.Str("status");
                var outcome = status switch { "won" => "won", "lost" => "lost", _ => null };
                var closed = outcome is not null;
                var type = closed ? EventTypes.ChargebackClosed : EventTypes.ChargebackOpened;
                if (topic == "disputes/update" && !closed) return new MapResult.Ignored($"dispute status '{status}' is neither opened nor closed");
                var id = o.RequiredStr("id");
                var currency = Money.Currency(o.Str("currency"));
                var e = raw.Event(type, $"{type}:{id}", o.Time(closed ? "finalized_on" : "initiated_at") ?? raw.ReceivedAt, new Subject(), test, topic);
                return new MapResult.Mapped([e with
                {
                    Order = new OrderInfo { OrderId = o.RequiredStr("order_id"), Currency = currency },
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = id, Status = status, Outcome = outcome, Reason = o.Str("reason"), Currency = currency,
                        Amount = currency is null ? null : Money.FromMajor(o.Str("amount"), currency),
                    },
                }]);
            }
            default:
                return new MapResult.Ignored($"Shopify topic {topic} is not one Junction uses");
        }
    }

    private static MapResult.Mapped Order(RawInput raw, JsonElement o, string type, bool test, string topic)
    {
        var orderId = o.RequiredStr("id");
        var occurred = o.Time("processed_at") ?? o.Time("updated_at") ?? o.Time("created_at")
            ?? throw new MappingException("processed_at: required, expected an ISO-8601 time");
        var currency = Money.Currency(o.Str("currency")) ?? throw new MappingException("currency: required, expected an ISO 4217 code");
        var notes = o.Array("note_attributes")
            .Where(n => n.Str("name") is not null)
            .GroupBy(n => n.Str("name")!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Last().Str("value") ?? "", StringComparer.OrdinalIgnoreCase);
        var subject = Subject.From(
            o.Str("email") ?? o.Str("contact_email") ?? o.Str("customer.email"),
            o.Str("customer.id"),
            notes.GetValueOrDefault("purchase_token") ?? notes.GetValueOrDefault("junction_token"),
            o.Str("phone") ?? o.Str("customer.phone") ?? o.Str("billing_address.phone"),
            Name(o));
        var e = raw.Event(type, $"{type}:{orderId}", occurred, subject, test, topic);
        return new MapResult.Mapped([e with
        {
            Order = new OrderInfo
            {
                OrderId = orderId,
                Amount = Price(o, "total_price", currency),
                Currency = currency,
                Items = Items(o),
                RelatedIds = [.. new[] { o.Str("admin_graphql_api_id"), o.Str("name"), o.Str("checkout_token") }.Where(x => x is not null).Select(x => x!)],
            },
            Attribution = AttributionParser.FromUrl(o.Str("landing_site"), o.Str("referring_site"))
                ?? AttributionParser.FromValues(notes),
        }]);
    }

    private static MapResult Refund(RawInput raw, JsonElement r, bool test, string topic)
    {
        var refundId = r.RequiredStr("id");
        var orderId = r.RequiredStr("order_id");
        // The money refunded is the successful refund transactions (Shopify Refund resource).
        var transactions = r.Array("transactions")
            .Where(t => t.Str("kind") == "refund" && t.Str("status") == "success")
            .ToList();
        var currency = transactions.Select(t => Money.Currency(t.Str("currency"))).FirstOrDefault(c => c is not null);
        long? amount = currency is null ? null : transactions.Sum(t => Money.FromMajor(t.Str("amount"), currency) ?? 0);
        if (transactions.Count == 0 && r.Array("transactions").Any())
        {
            return new MapResult.Ignored($"refund {refundId} has no successful refund transaction yet");
        }
        var e = raw.Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{refundId}",
            r.Time("processed_at") ?? r.Time("created_at") ?? raw.ReceivedAt, new Subject(), test, topic);
        return new MapResult.Mapped([e with
        {
            Order = new OrderInfo
            {
                OrderId = orderId,
                Currency = currency,
                RefundAmount = amount ?? 0,
                RefundId = refundId,
                Items = r.Array("refund_line_items").Select(li => new OrderItem
                {
                    Sku = li.Str("line_item.sku"),
                    ProductId = li.Str("line_item.product_id"),
                    Name = li.Str("line_item.title"),
                    Quantity = (int)(li.Whole("quantity") ?? 1),
                    Amount = currency is null ? null : Money.FromMajor(li.Str("subtotal"), currency),
                }).ToList(),
            },
        }]);
    }

    private static long? Price(JsonElement o, string path, string? currency = null)
    {
        currency ??= Money.Currency(o.Str("currency"));
        return currency is null ? null : Money.FromMajor(o.Str(path), currency);
    }

    private static List<OrderItem> Items(JsonElement o)
    {
        var currency = Money.Currency(o.Str("currency"));
        return o.Array("line_items").Select(li =>
        {
            var quantity = (int)(li.Whole("quantity") ?? 1);
            var unit = currency is null ? null : Money.FromMajor(li.Str("price"), currency);
            return new OrderItem
            {
                Sku = li.Str("sku") is { Length: > 0 } sku ? sku : null,
                ProductId = li.Str("product_id"),
                PriceId = li.Str("variant_id"),
                Name = li.Str("title") ?? li.Str("name"),
                Quantity = quantity,
                Amount = unit * quantity,
            };
        }).ToList();
    }

    private static string? Name(JsonElement o)
    {
        var first = o.Str("customer.first_name") ?? o.Str("billing_address.first_name");
        var last = o.Str("customer.last_name") ?? o.Str("billing_address.last_name");
        var full = $"{first} {last}".Trim();
        return full.Length == 0 ? null : full;
    }
}
