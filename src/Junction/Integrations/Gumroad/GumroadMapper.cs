using System.Globalization;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Gumroad;

/// <summary>
/// Gumroad pings → canonical events, by <c>resource_name</c> (the settings-page ping sends sales
/// without it). Fields from antiwork/gumroad <c>app/modules/purchase/ping_notification.rb</c>: the
/// order id is <c>sale_id</c>; <c>price</c> is the purchase's cents (a string in form mode);
/// <c>currency</c> is lower case; <c>test</c> is present only for the seller's own purchases.
/// A refund ping is the sale payload again with <c>resource_name=refund</c>: it has no refund amount
/// and no refund id, and <c>refunded</c> is true only once the sale is fully refunded
/// (<c>stripe_refunded</c>); <c>Purchase#refund_purchase!</c> sends it for partial refunds too.
/// </summary>
public sealed class GumroadMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        Dictionary<string, string> f;
        try
        {
            f = GumroadPing.Fields(raw.Body);
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected a Gumroad ping as form fields or JSON ({ex.Message})");
        }
        var resource = GumroadPing.Get(f, "resource_name") ?? "sale";
        return Mapping.Typed(resource, () => MapResource(raw, f, resource));
    }

    private static MapResult MapResource(RawInput raw, Dictionary<string, string> f, string resource)
    {
        switch (resource)
        {
            case "sale":
            {
                var sale = Required(f, "sale_id");
                var at = Time(f, "sale_timestamp") ?? throw new MappingException("sale_timestamp: required, expected an ISO-8601 time");
                string type;
                if (GumroadPing.Flag(f, "is_preorder_authorization")) type = EventTypes.OrderPending; // card authorized, charged at release
                else if (GumroadPing.Flag(f, "is_recurring_charge")) type = EventTypes.SubscriptionRenewed;
                else type = EventTypes.OrderPaid;
                var e = raw.Event(type, $"{type}:{sale}", at, SaleSubject(f), GumroadPing.Flag(f, "test"), resource) with
                {
                    Order = SaleOrder(f, sale),
                    Attribution = Attribution(f),
                    Subscription = GumroadPing.Get(f, "subscription_id") is { } sub
                        ? new SubscriptionInfo { SubscriptionId = sub, Status = "active" }
                        : null,
                };
                return new MapResult.Mapped([e]);
            }
            case "refund":
            {
                var sale = Required(f, "sale_id");
                var order = SaleOrder(f, sale);
                var full = GumroadPing.Flag(f, "refunded");
                // The ping (Purchase::PingNotification) has no refund amount, no refund id and no
                // refund time, and refunded is true only once the sale is fully refunded. Two partial
                // refunds of one sale send identical pings, so each partial refund delivery is its own
                // fact (its dedup key is unique per delivery, see GumroadProvider.DedupKey); the full
                // refund is one fact per sale. sale_timestamp is the original sale's time, so the
                // refund's time is when the ping arrived.
                var key = full ? $"{EventTypes.OrderRefunded}:{sale}" : $"{EventTypes.OrderRefunded}:{sale}:partial:{raw.DedupKey}";
                var e = raw.Event(EventTypes.OrderRefunded, key, raw.ReceivedAt, SaleSubject(f), GumroadPing.Flag(f, "test"), resource) with
                {
                    // What one refund gave back is never stated: refund_amount stays null (a full refund
                    // after partial ones gave back less than the price); refunded_total is the price once
                    // the sale is fully refunded.
                    Order = order with
                    {
                        RefundAmount = null,
                        RefundedTotal = full ? order.Amount : null,
                        FullyRefunded = full,
                    },
                };
                return new MapResult.Mapped([e]);
            }
            case "dispute":
            case "dispute_won":
            {
                var sale = Required(f, "sale_id");
                var won = resource == "dispute_won";
                var type = won ? EventTypes.ChargebackClosed : EventTypes.ChargebackOpened;
                var order = SaleOrder(f, sale);
                // Gumroad has no dispute id: a sale is disputed at most once, so the sale names it.
                var e = raw.Event(type, $"{type}:{sale}", raw.ReceivedAt, SaleSubject(f), GumroadPing.Flag(f, "test"), resource) with
                {
                    Order = order,
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = sale,
                        Status = won ? "won" : "open",
                        Outcome = won ? "won" : null,
                        Amount = order.Amount,
                        Currency = order.Currency,
                    },
                };
                return new MapResult.Mapped([e]);
            }
            case "cancellation":
            case "subscription_ended":
            {
                var sub = Required(f, "subscription_id");
                var ended = resource == "subscription_ended";
                // cancellation fires when a cancel is requested (cancelled_at: when access ends);
                // subscription_ended when it has ended. Two facts, both subscription.canceled.
                var endsAt = ended ? Time(f, "ended_at") : Time(f, "cancelled_at");
                var e = raw.Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{sub}:{(ended ? "ended" : "cancellation")}",
                    ended ? endsAt ?? raw.ReceivedAt : raw.ReceivedAt,
                    Subject.From(GumroadPing.Get(f, "user_email"), GumroadPing.Get(f, "user_id")), providerType: resource) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = sub,
                        Status = ended ? "ended" : "cancelled",
                        CanceledAt = ended ? null : raw.ReceivedAt,
                        EndsAt = endsAt,
                        Reason = ended ? GumroadPing.Get(f, "ended_reason") : CancelReason(f),
                    },
                    Order = new OrderInfo
                    {
                        OrderId = sub,
                        Items = [new OrderItem { ProductId = GumroadPing.Get(f, "product_id"), Name = GumroadPing.Get(f, "product_name") }],
                    },
                };
                return new MapResult.Mapped([e]);
            }
            case "subscription_updated":
            case "subscription_restarted":
                return new MapResult.Ignored($"Gumroad {resource} changes no payment state Junction tracks");
            default:
                return new MapResult.Ignored($"Gumroad resource {resource} is not one Junction uses");
        }
    }

    private static string Required(Dictionary<string, string> f, string key) =>
        GumroadPing.Get(f, key) ?? throw new MappingException($"{key}: required, expected a non-empty id");

    private static DateTimeOffset? Time(Dictionary<string, string> f, string key)
    {
        var text = GumroadPing.Get(f, key);
        if (text is null) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new MappingException($"{key}: expected an ISO-8601 time; got '{text}'");
    }

    private static Subject SaleSubject(Dictionary<string, string> f) => Subject.From(
        GumroadPing.Get(f, "email"),
        GumroadPing.Get(f, "purchaser_id"),
        PurchaseToken(f),
        name: GumroadPing.Get(f, "full_name"));

    // A purchase token reaches Gumroad as a URL parameter on the product link, or as a custom field
    // (sent both flattened at the top level and under custom_fields[…]).
    private static string? PurchaseToken(Dictionary<string, string> f) =>
        GumroadPing.Group(f, "url_params").GetValueOrDefault("purchase_token")
        ?? GumroadPing.Get(f, "custom_fields[purchase_token]")
        ?? GumroadPing.Get(f, "purchase_token");

    private static OrderInfo SaleOrder(Dictionary<string, string> f, string sale)
    {
        long? cents = null;
        if (GumroadPing.Get(f, "price") is { } price)
        {
            cents = Money.FromMinor(price) ?? throw new MappingException($"price: expected whole cents; got '{price}'");
        }
        string? currency = null;
        if (GumroadPing.Get(f, "currency") is { } code)
        {
            currency = Money.Currency(code) ?? throw new MappingException($"currency: expected a three-letter ISO 4217 code; got '{code}'");
        }
        var quantity = 1;
        if (GumroadPing.Get(f, "quantity") is { } q && !int.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out quantity))
        {
            throw new MappingException($"quantity: expected a whole number; got '{q}'");
        }
        return new OrderInfo
        {
            OrderId = sale,
            Amount = cents,
            Currency = currency,
            Items =
            [
                new OrderItem
                {
                    Sku = GumroadPing.Get(f, "sku_id") ?? GumroadPing.Get(f, "permalink") ?? GumroadPing.Get(f, "short_product_id"),
                    ProductId = GumroadPing.Get(f, "product_id"),
                    Name = GumroadPing.Get(f, "product_name"),
                    Quantity = quantity,
                    Amount = cents,
                },
            ],
            RelatedIds = GumroadPing.Get(f, "order_number") is { } number ? [number] : [],
        };
    }

    private static Attribution? Attribution(Dictionary<string, string> f)
    {
        var values = GumroadPing.Group(f, "url_params");
        if (GumroadPing.Get(f, "referrer") is { } referrer) values.TryAdd("referrer", referrer);
        return AttributionParser.FromValues(values);
    }

    private static string? CancelReason(Dictionary<string, string> f)
    {
        foreach (var key in (string[])["cancelled_by_buyer", "cancelled_by_seller", "cancelled_by_admin", "cancelled_due_to_payment_failures"])
        {
            if (GumroadPing.Flag(f, key)) return key;
        }
        return null;
    }
}
