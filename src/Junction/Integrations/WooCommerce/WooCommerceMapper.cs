using System.Globalization;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.WooCommerce;

/// <summary>
/// WooCommerce order webhooks → canonical events, by the <c>X-WC-Webhook-Topic</c> header. The body
/// is the REST API (v3) order: a snapshot of its whole state, so each delivery emits every fact that
/// state proves (paid, each refund, fulfilled), under fact keys naming the order or the refund;
/// repeated <c>order.updated</c> deliveries of one state therefore collapse. Prices are decimal
/// strings in <c>currency</c>; <c>*_gmt</c> times are UTC without an offset, and the site's own
/// offset is recovered from the matching local time. WooCommerce has no test flag.
/// </summary>
public sealed class WooCommerceMapper : IPayloadMapper
{
    private const string WooTimeFormat = "yyyy-MM-dd'T'HH:mm:ss";

    public MapResult Map(RawInput raw)
    {
        var topic = raw.Header("x-wc-webhook-topic");
        if (topic is null) return new MapResult.Quarantined("header X-WC-Webhook-Topic: required, expected a topic such as order.updated");
        if (topic is not ("order.created" or "order.updated" or "order.restored"))
        {
            return new MapResult.Ignored($"WooCommerce topic {topic} is not one Junction uses") { ProviderType = topic };
        }
        JsonElement root;
        try
        {
            root = raw.Json();
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected a WooCommerce order as JSON ({ex.Message})") { ProviderType = topic };
        }
        return Mapping.Typed(topic, () => MapOrder(raw, root, topic));
    }

    private static MapResult MapOrder(RawInput raw, JsonElement o, string topic)
    {
        var id = o.RequiredStr("id");
        var status = o.RequiredStr("status");
        var currency = Money.Currency(o.Str("currency")) ?? throw new MappingException("currency: required, expected a three-letter ISO 4217 code");
        var total = Major(o, "total", currency);
        var subject = OrderSubject(o);
        var order = Order(o, id, currency, total);
        var attribution = AttributionParser.FromValues(Meta(o));
        var created = WooTime(o, "date_created") ?? throw new MappingException("date_created_gmt: required, expected a UTC time yyyy-MM-ddTHH:mm:ss");
        var modified = WooTime(o, "date_modified") ?? created;
        var paidAt = WooTime(o, "date_paid");

        var events = new List<CanonicalEvent>();
        CanonicalEvent Event(string type, string factKey, DateTimeOffset at) => raw.Event(type, factKey, at, subject, providerType: topic);

        switch (status)
        {
            case "pending":
            case "on-hold":
                events.Add(Event(EventTypes.OrderPending, $"{EventTypes.OrderPending}:{id}", created) with { Order = order, Attribution = attribution });
                break;
            case "failed":
                // A buyer can retry payment on the same order: each failed state is its own fact.
                events.Add(Event(EventTypes.PaymentFailed, $"{EventTypes.PaymentFailed}:{id}:{o.Str("date_modified_gmt")}", modified) with { Order = order });
                break;
            case "cancelled" when paidAt is null:
                // Unpaid orders are cancelled when the hold-stock time runs out (wc_cancel_unpaid_orders).
                events.Add(Event(EventTypes.CheckoutAbandoned, $"{EventTypes.CheckoutAbandoned}:{id}", modified) with { Order = order, Attribution = attribution });
                break;
        }

        if (status is "processing" or "completed" or "refunded")
        {
            // date_paid is set when payment completes (WC_Order::maybe_set_date_paid); without it the
            // order is not known to be paid (e.g. set to processing by hand).
            events.Add(paidAt is { } at
                ? Event(EventTypes.OrderPaid, $"{EventTypes.OrderPaid}:{id}", at) with { Order = order, Attribution = attribution }
                : Event(EventTypes.OrderPending, $"{EventTypes.OrderPending}:{id}", created) with { Order = order, Attribution = attribution });
        }

        events.AddRange(Refunds(o, id, status, currency, total, order, modified, Event));

        if (status == "completed")
        {
            // completed is WooCommerce's fulfilment signal (virtual/downloadable orders complete at once).
            events.Add(Event(EventTypes.OrderFulfilled, $"{EventTypes.OrderFulfilled}:{id}", WooTime(o, "date_completed") ?? modified) with
            {
                Order = new OrderInfo { OrderId = id, Items = order.Items },
            });
        }

        return events.Count > 0
            ? new MapResult.Mapped(events)
            : new MapResult.Ignored($"order status '{status}' changes nothing Junction tracks");
    }

    /// <summary>
    /// One order.refunded per entry of <c>refunds[]</c> (id, reason, negative <c>total</c>), keyed by
    /// the refund id; refunded_total is the running sum up to that refund, so each event says the same
    /// thing whichever delivery first reported it.
    /// </summary>
    private static IEnumerable<CanonicalEvent> Refunds(JsonElement o, string id, string status, string currency, long? total,
        OrderInfo order, DateTimeOffset modified, Func<string, string, DateTimeOffset, CanonicalEvent> makeEvent)
    {
        var refunds = o.Array("refunds")
            .Select(r => (Id: r.RequiredStr("id"), Amount: Math.Abs(Major(r, "total", currency, "refunds[].") ?? 0)))
            .OrderBy(r => long.TryParse(r.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue)
            .ThenBy(r => r.Id, StringComparer.Ordinal)
            .ToList();
        if (refunds.Count == 0)
        {
            if (status != "refunded") yield break;
            // Refunded with no refund record listed: the whole order was given back.
            yield return makeEvent(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{id}:full", modified) with
            {
                Order = order with { RefundAmount = total, RefundedTotal = total, FullyRefunded = true },
            };
            yield break;
        }
        // The refund that makes the order fully refunded is keyed like the record-less full refund
        // above: a `refunded` snapshot sent before its refund record exists (WooCommerce sets the
        // status, then creates the refund) and a later one listing it are one fact, not two.
        var fullAt = -1;
        long sum = 0;
        for (var i = 0; i < refunds.Count && fullAt < 0; i++)
        {
            sum += refunds[i].Amount;
            if (total is { } t && sum >= t) fullAt = i;
        }
        if (fullAt < 0 && status == "refunded") fullAt = refunds.Count - 1;
        long running = 0;
        for (var i = 0; i < refunds.Count; i++)
        {
            running += refunds[i].Amount;
            var last = i == refunds.Count - 1;
            var key = i == fullAt ? $"{EventTypes.OrderRefunded}:{id}:full" : $"{EventTypes.OrderRefunded}:{refunds[i].Id}";
            yield return makeEvent(EventTypes.OrderRefunded, key, modified) with
            {
                Order = order with
                {
                    RefundAmount = refunds[i].Amount,
                    RefundId = refunds[i].Id,
                    RefundedTotal = running,
                    FullyRefunded = (total is { } t && running >= t) || (last && status == "refunded"),
                },
            };
        }
    }

    private static Subject OrderSubject(JsonElement o)
    {
        var first = o.Str("billing.first_name");
        var last = o.Str("billing.last_name");
        var name = string.Join(' ', new[] { first, last }.Where(s => !string.IsNullOrWhiteSpace(s)));
        var customer = o.Str("customer_id");
        return Subject.From(
            o.Str("billing.email"),
            customer is null or "0" ? null : customer, // 0 is a guest checkout
            Meta(o).GetValueOrDefault("purchase_token"),
            o.Str("billing.phone"),
            name);
    }

    private static OrderInfo Order(JsonElement o, string id, string currency, long? total)
    {
        var related = new List<string>();
        foreach (var path in (string[])["number", "order_key", "transaction_id"])
        {
            if (o.Str(path) is { Length: > 0 } v && v != id) related.Add(v);
        }
        return new OrderInfo
        {
            OrderId = id,
            Amount = total,
            Currency = currency,
            Items = o.Array("line_items").Select(l => new OrderItem
            {
                Sku = l.Str("sku") is { Length: > 0 } sku ? sku : l.Str("product_id"),
                ProductId = l.Str("product_id"),
                PriceId = l.Str("variation_id") is { } v && v != "0" ? v : null,
                Name = l.Str("name"),
                Quantity = (int)(l.Whole("quantity") ?? 1),
                Amount = Major(l, "total", currency, "line_items[]."),
            }).ToList(),
            RelatedIds = related,
        };
    }

    private const string AttributionPrefix = "_wc_order_attribution_";

    /// <summary>
    /// <c>meta_data[]</c> entries with string values, by key (utm_*, purchase_token), plus WooCommerce's
    /// own order attribution (8.5+): <c>_wc_order_attribution_utm_*</c>, <c>_wc_order_attribution_referrer</c>
    /// and <c>_wc_order_attribution_session_entry</c> (the landing page), where no plain key gives them.
    /// </summary>
    private static Dictionary<string, string> Meta(JsonElement o)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var woo = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in o.Array("meta_data"))
        {
            if (m.Str("key") is not { } key || m.Path("value") is not { ValueKind: JsonValueKind.String } value) continue;
            if (key.StartsWith(AttributionPrefix, StringComparison.OrdinalIgnoreCase))
            {
                var name = key[AttributionPrefix.Length..];
                woo[name.Equals("session_entry", StringComparison.OrdinalIgnoreCase) ? "landing_page" : name] = value.GetString()!;
            }
            else
            {
                result[key] = value.GetString()!;
            }
        }
        foreach (var (key, value) in woo)
        {
            // "(none)" is what the attribution script writes for a missing value.
            if (value is "(none)" or "") continue;
            result.TryAdd(key, value);
        }
        return result;
    }

    private static long? Major(JsonElement e, string path, string currency, string where = "")
    {
        var text = e.Str(path);
        if (string.IsNullOrEmpty(text)) return null;
        return Money.FromMajor(text, currency) ?? throw new MappingException($"{where}{path}: expected a decimal amount; got '{text}'");
    }

    /// <summary>
    /// <c>{field}_gmt</c> as UTC, with the site's offset (local <c>{field}</c> minus the GMT one) kept
    /// when it is a plausible whole-minute offset.
    /// </summary>
    private static DateTimeOffset? WooTime(JsonElement o, string field)
    {
        var gmtText = o.Str(field + "_gmt");
        if (gmtText is null) return null;
        if (!DateTime.TryParseExact(gmtText, WooTimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var gmt))
        {
            return o.Time(field + "_gmt");
        }
        var utc = new DateTimeOffset(gmt, TimeSpan.Zero);
        if (o.Str(field) is { } localText
            && DateTime.TryParseExact(localText, WooTimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            var offset = local - gmt;
            if (offset.Ticks % TimeSpan.TicksPerMinute == 0 && offset.Duration() <= TimeSpan.FromHours(14))
            {
                return new DateTimeOffset(local, offset);
            }
        }
        return utc;
    }
}
