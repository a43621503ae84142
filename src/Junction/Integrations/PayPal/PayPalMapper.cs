using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.PayPal;

/// <summary>
/// PayPal REST webhook events → canonical events (PayPal's webhook event names page, the Payments v2,
/// Orders v2, Payments v1 sale/refund, Disputes v1 and Subscriptions v1 references).
/// Order id: the id every payload names without an API call, so that a purchase, its refunds and its
/// disputes share it: the Payments v2 <b>capture</b> id (a capture's own <c>id</c>; a refund's
/// <c>links[rel=up]</c>; a dispute's <c>disputed_transactions[].seller_transaction_id</c>; a completed
/// order's <c>purchase_units[].payments.captures[].id</c>), or for Subscriptions payments the Payments
/// v1 <b>sale</b> id (a sale's <c>id</c>, a sale refund's <c>sale_id</c>). The Orders v2 order id
/// (<c>supplementary_data.related_ids.order_id</c>) goes to <see cref="OrderInfo.RelatedIds"/>; an
/// <c>order.pending</c> (approved order, pending capture) is about the order before money moved and
/// uses the Orders v2 id, so both reports of it are one fact.
/// Capture payloads carry neither the buyer nor the items, so with client credentials the order is
/// fetched (<c>GET /v2/checkout/orders/{id}</c>); a refund names only its capture, so the capture is
/// fetched first for the order id.
/// Test mode: the <c>PAYPAL-CERT-URL</c> header or any link in the event points at a
/// <c>sandbox.paypal.com</c> host (PayPal's events carry no livemode flag).
/// </summary>
public sealed class PayPalMapper : IPayloadMapper
{
    /// <summary>Enrichment keys: the Orders v2 order, the Payments v2 capture, the Subscriptions v1 subscription.</summary>
    public const string OrderKey = "order";
    public const string CaptureKey = "capture";
    public const string SubscriptionKey = "subscription";

    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a PayPal webhook event", out var root, out var problem)) return problem;
        var type = root.ValueKind == JsonValueKind.Object ? root.Str("event_type") : null;
        if (type is null) return new MapResult.Quarantined("event_type: required, expected a PayPal event type such as PAYMENT.CAPTURE.COMPLETED");
        return Mapping.Typed(type, () => MapType(raw, root, type));
    }

    private static MapResult MapType(RawInput raw, JsonElement root, string type)
    {
        switch (type)
        {
            case "PAYMENT.CAPTURE.COMPLETED":
            case "PAYMENT.CAPTURE.PENDING":
            case "PAYMENT.CAPTURE.DENIED":
            case "PAYMENT.CAPTURE.DECLINED":
            case "PAYMENT.CAPTURE.REFUNDED":
            case "PAYMENT.CAPTURE.REVERSED":
            case "CUSTOMER.DISPUTE.CREATED":
            case "CUSTOMER.DISPUTE.UPDATED":
            case "CUSTOMER.DISPUTE.RESOLVED":
            case "BILLING.SUBSCRIPTION.CANCELLED":
            case "BILLING.SUBSCRIPTION.EXPIRED":
            case "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
            case "PAYMENT.SALE.COMPLETED":
            case "PAYMENT.SALE.REFUNDED":
            case "PAYMENT.SALE.REVERSED":
            case "CHECKOUT.ORDER.APPROVED":
            case "CHECKOUT.ORDER.COMPLETED":
                break;
            case "BILLING.SUBSCRIPTION.SUSPENDED":
                // Suspended (by the merchant, or after too many failed payments: those come as
                // BILLING.SUBSCRIPTION.PAYMENT.FAILED first) is reversible: ACTIVATED follows a reactivation,
                // and Junction has no type that would undo a cancel. Only CANCELLED/EXPIRED end it.
                return new MapResult.Ignored("BILLING.SUBSCRIPTION.SUSPENDED: a suspension can be reactivated, so it is not a cancellation; payment failures arrive as BILLING.SUBSCRIPTION.PAYMENT.FAILED");
            default:
                return new MapResult.Ignored($"PayPal event type {type} is not one Junction uses");
        }
        if (root.Path("resource") is not { ValueKind: JsonValueKind.Object })
        {
            throw new MappingException("resource: required, expected the event's resource object");
        }
        var created = root.Time("create_time") ?? throw new MappingException("create_time: required, expected an ISO-8601 time");
        var test = IsSandbox(raw, root);

        switch (type)
        {
            case "PAYMENT.CAPTURE.COMPLETED":
            case "PAYMENT.CAPTURE.PENDING":
            case "PAYMENT.CAPTURE.DENIED":
            case "PAYMENT.CAPTURE.DECLINED":
            {
                var canonical = type switch
                {
                    "PAYMENT.CAPTURE.COMPLETED" => EventTypes.OrderPaid,
                    "PAYMENT.CAPTURE.PENDING" => EventTypes.OrderPending,
                    _ => EventTypes.PaymentFailed,
                };
                var captureId = root.RequiredStr("resource.id");
                var orderId = root.Str("resource.supplementary_data.related_ids.order_id");
                if (orderId is not null && Wants(raw, OrderKey)) return Fetch(OrderKey, OrderPath(orderId));
                var order = Enriched(raw, OrderKey);
                var (amount, currency) = Amount(root, "resource.amount");
                var custom = root.Str("resource.custom_id");
                var (token, attribution) = PayPalCustom.Parse(custom);
                // A pending payment is about the order (an approved order reports the same fact before any capture exists).
                var pending = canonical == EventTypes.OrderPending;
                var key = pending ? $"{canonical}:{orderId ?? captureId}" : $"{canonical}:{captureId}";
                return Single(raw.Event(canonical, key, When(root, created), Payer(order, token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = pending ? orderId ?? captureId : captureId,
                        Amount = amount,
                        Currency = currency,
                        Items = Items(order),
                        RelatedIds = Related(pending ? captureId : orderId, root.Str("resource.invoice_id"), PayPalCustom.Id(custom)),
                    },
                    Attribution = attribution,
                });
            }

            case "PAYMENT.CAPTURE.REFUNDED":
            case "PAYMENT.CAPTURE.REVERSED":
                return Refund(raw, root, type, test, created);

            case "PAYMENT.SALE.REFUNDED":
            case "PAYMENT.SALE.REVERSED":
                return SaleRefund(root, raw, type, test, created);

            case "CUSTOMER.DISPUTE.CREATED":
            case "CUSTOMER.DISPUTE.UPDATED":
            case "CUSTOMER.DISPUTE.RESOLVED":
            {
                // An update matters only when it carries the outcome (PayPal may report the end of a
                // dispute as an update); other updates (messages, stage changes) are ignored.
                if (type == "CUSTOMER.DISPUTE.UPDATED" && root.Str("resource.dispute_outcome.outcome_code") is null)
                {
                    return new MapResult.Ignored("CUSTOMER.DISPUTE.UPDATED without dispute_outcome: a progress update, not an outcome");
                }
                var resolved = type != "CUSTOMER.DISPUTE.CREATED";
                var disputeId = root.RequiredStr("resource.dispute_id");
                var transaction = root.Array("resource.disputed_transactions").FirstOrDefault();
                var sellerTransaction = transaction.ValueKind == JsonValueKind.Object ? transaction.Str("seller_transaction_id") : null;
                if (string.IsNullOrEmpty(sellerTransaction))
                {
                    throw new MappingException("resource.disputed_transactions[0].seller_transaction_id: required, expected the disputed transaction's id");
                }
                var (amount, currency) = Amount(root, "resource.dispute_amount");
                var canonical = resolved ? EventTypes.ChargebackClosed : EventTypes.ChargebackOpened;
                var when = (resolved ? root.Time("resource.update_time") : root.Time("resource.create_time")) ?? created;
                var custom = transaction.Str("custom");
                var (token, _) = PayPalCustom.Parse(custom);
                return Single(raw.Event(canonical, $"{canonical}:{disputeId}", when, Subject.From(null, purchaseToken: token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        // The disputed capture (or sale): the purchase's own order id.
                        OrderId = sellerTransaction,
                        Currency = currency,
                        RelatedIds = Related(transaction.Str("buyer_transaction_id"), transaction.Str("invoice_number"), PayPalCustom.Id(custom)),
                    },
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = disputeId,
                        Status = root.Str("resource.status"),
                        Outcome = resolved ? DisputeOutcome(root) : null,
                        Reason = root.Str("resource.reason"),
                        Amount = amount,
                        Currency = currency,
                    },
                });
            }

            case "BILLING.SUBSCRIPTION.CANCELLED":
            case "BILLING.SUBSCRIPTION.EXPIRED":
            {
                // CANCELLED ends a subscription at once; EXPIRED when its fixed number of cycles ran out.
                // A subscription does only one of the two: one fact.
                var subscriptionId = root.RequiredStr("resource.id");
                var canceledAt = root.Time("resource.status_update_time");
                var (token, attribution) = PayPalCustom.Parse(root.Str("resource.custom_id"));
                return Single(raw.Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{subscriptionId}",
                    canceledAt ?? created, Subscriber(root.Path("resource"), token), test, type) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = subscriptionId,
                        Status = root.Str("resource.status"),
                        CanceledAt = canceledAt?.ToUniversalTime(),
                        EndsAt = type == "BILLING.SUBSCRIPTION.EXPIRED" ? canceledAt?.ToUniversalTime() : null,
                        Reason = type == "BILLING.SUBSCRIPTION.EXPIRED" ? "expired" : root.Str("resource.status_change_note"),
                    },
                    Order = PlanOrder(root.Path("resource"), subscriptionId),
                    Attribution = attribution,
                });
            }

            case "BILLING.SUBSCRIPTION.PAYMENT.FAILED":
            {
                // The resource is the subscription; billing_info.last_failed_payment is the attempt.
                var subscriptionId = root.RequiredStr("resource.id");
                var failedAt = root.Time("resource.billing_info.last_failed_payment.time");
                var attempt = root.Whole("resource.billing_info.failed_payments_count");
                var (amount, currency) = Amount(root, "resource.billing_info.last_failed_payment.amount");
                var (token, attribution) = PayPalCustom.Parse(root.Str("resource.custom_id"));
                var plan = PlanOrder(root.Path("resource"), subscriptionId);
                var attemptKey = failedAt?.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture)
                    ?? attempt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? root.Str("id") ?? raw.DedupKey;
                return Single(raw.Event(EventTypes.PaymentFailed, $"{EventTypes.PaymentFailed}:{subscriptionId}:{attemptKey}",
                    failedAt ?? created, Subscriber(root.Path("resource"), token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = subscriptionId,
                        Amount = amount,
                        Currency = currency,
                        Items = plan?.Items ?? [],
                    },
                    Subscription = new SubscriptionInfo { SubscriptionId = subscriptionId, Status = root.Str("resource.status") },
                    Attribution = attribution,
                });
            }

            case "PAYMENT.SALE.COMPLETED":
            {
                // Payments v1 sales are what Subscriptions bill; a sale without an agreement is a
                // legacy one-off payment, which Junction takes from Payments v2 captures instead.
                // The sale says nothing about which cycle it pays, so the first payment is
                // subscription.renewed too (BILLING.SUBSCRIPTION.ACTIVATED, which Junction ignores, marks the start).
                var agreement = root.Str("resource.billing_agreement_id");
                if (agreement is null) return new MapResult.Ignored("PAYMENT.SALE.COMPLETED without billing_agreement_id: a legacy one-off sale, not a subscription payment");
                var saleId = root.RequiredStr("resource.id");
                if (Wants(raw, SubscriptionKey)) return Fetch(SubscriptionKey, $"/v1/billing/subscriptions/{Uri.EscapeDataString(agreement)}");
                var subscription = Enriched(raw, SubscriptionKey);
                var (amount, currency) = V1Amount(root, "resource.amount");
                var custom = root.Str("resource.custom") ?? subscription?.Str("custom_id");
                var (token, attribution) = PayPalCustom.Parse(custom);
                return Single(raw.Event(EventTypes.SubscriptionRenewed, $"{EventTypes.SubscriptionRenewed}:{saleId}", When(root, created),
                    Subscriber(subscription, token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = saleId,
                        Amount = amount,
                        Currency = currency,
                        Items = PlanOrder(subscription, saleId)?.Items ?? [],
                        RelatedIds = Related(agreement, root.Str("resource.invoice_number"), PayPalCustom.Id(custom)),
                    },
                    Subscription = new SubscriptionInfo { SubscriptionId = agreement, Status = subscription?.Str("status") ?? "ACTIVE" },
                    Attribution = attribution,
                });
            }

            case "CHECKOUT.ORDER.APPROVED":
            {
                // The resource is the order itself: buyer and items are here, but nothing is captured
                // yet, so there is no capture id: order.pending names the Orders v2 order (the same
                // fact as a PAYMENT.CAPTURE.PENDING of this order).
                var orderId = root.RequiredStr("resource.id");
                var order = root.Path("resource");
                var unit = root.Array("resource.purchase_units").FirstOrDefault();
                var hasUnit = unit.ValueKind == JsonValueKind.Object;
                var (amount, currency) = hasUnit ? Amount(unit, "amount", "resource.purchase_units[0].amount") : (null, null);
                var custom = hasUnit ? unit.Str("custom_id") : null;
                var (token, attribution) = PayPalCustom.Parse(custom);
                return Single(raw.Event(EventTypes.OrderPending, $"{EventTypes.OrderPending}:{orderId}", When(root, created), Payer(order, token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = orderId,
                        Amount = amount,
                        Currency = currency,
                        Items = Items(order),
                        RelatedIds = Related(hasUnit ? unit.Str("invoice_id") : null, PayPalCustom.Id(custom)),
                    },
                    Attribution = attribution,
                });
            }

            case "CHECKOUT.ORDER.COMPLETED":
                return OrderCompleted(raw, root, type, test, created);
        }
        throw new InvalidOperationException($"unhandled PayPal event type {type}");
    }

    /// <summary>
    /// CHECKOUT.ORDER.COMPLETED: the Orders v2 order with its captures
    /// (<c>purchase_units[].payments.captures[]</c>). A completed capture is the same fact as its
    /// PAYMENT.CAPTURE.COMPLETED (<c>order.paid:&lt;capture id&gt;</c>), here with buyer and items;
    /// a pending one is the order's <c>order.pending</c>.
    /// </summary>
    private static MapResult OrderCompleted(RawInput raw, JsonElement root, string type, bool test, DateTimeOffset created)
    {
        var orderId = root.RequiredStr("resource.id");
        var order = root.Path("resource");
        var events = new List<CanonicalEvent>();
        var units = root.Array("resource.purchase_units").ToList();
        for (var u = 0; u < units.Count; u++)
        {
            var unit = units[u];
            var custom = unit.Str("custom_id");
            var (token, attribution) = PayPalCustom.Parse(custom);
            var captures = unit.Array("payments.captures").ToList();
            for (var c = 0; c < captures.Count; c++)
            {
                var capture = captures[c];
                var at = $"resource.purchase_units[{u}].payments.captures[{c}]";
                var captureId = capture.Str("id") ?? throw new MappingException($"{at}.id: required, expected the capture id");
                var canonical = capture.Str("status") switch
                {
                    "COMPLETED" or "PARTIALLY_REFUNDED" or "REFUNDED" => EventTypes.OrderPaid,
                    "PENDING" => EventTypes.OrderPending,
                    "DECLINED" or "FAILED" => EventTypes.PaymentFailed,
                    _ => null,
                };
                if (canonical is null) continue;
                var pending = canonical == EventTypes.OrderPending;
                var (amount, currency) = Amount(capture, "amount", at + ".amount");
                var when = capture.Time("update_time") ?? capture.Time("create_time") ?? When(root, created);
                events.Add(raw.Event(canonical, pending ? $"{canonical}:{orderId}" : $"{canonical}:{captureId}", when, Payer(order, token), test, type) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = pending ? orderId : captureId,
                        Amount = amount,
                        Currency = currency,
                        Items = Items(order),
                        RelatedIds = Related(pending ? captureId : orderId, capture.Str("invoice_id") ?? unit.Str("invoice_id"), PayPalCustom.Id(custom)),
                    },
                    Attribution = attribution,
                });
            }
        }
        return events.Count > 0
            ? new MapResult.Mapped(events)
            : new MapResult.Ignored("CHECKOUT.ORDER.COMPLETED without captures (an authorize-intent order): the payment is reported when captured");
    }

    /// <summary>
    /// PAYMENT.SALE.REFUNDED (resource: a Payments v1 refund: <c>id</c>, <c>sale_id</c>, <c>amount.{total, currency}</c>)
    /// and PAYMENT.SALE.REVERSED (resource: the reversed sale, or a refund-shaped reversal naming <c>sale_id</c>).
    /// The order id is the sale, as on its PAYMENT.SALE.COMPLETED.
    /// </summary>
    private static MapResult.Mapped SaleRefund(JsonElement root, RawInput raw, string type, bool test, DateTimeOffset created)
    {
        var reversed = type == "PAYMENT.SALE.REVERSED";
        var id = root.RequiredStr("resource.id");
        var saleId = root.Str("resource.sale_id") ?? UpSale(root) ?? (reversed ? id : null)
            ?? throw new MappingException("resource.sale_id: required, expected the id of the refunded sale");
        var (amount, currency) = V1Amount(root, "resource.amount");
        var refunded = amount is { } a ? Math.Abs(a) : (long?)null; // older samples write refunds as negative totals
        var (total, _) = V1Amount(root, "resource.total_refunded_amount", optional: true);
        var custom = root.Str("resource.custom");
        var (token, _) = PayPalCustom.Parse(custom);
        var when = root.Time("resource.create_time") ?? created;
        return Single(raw.Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{id}", when, Subject.From(null, purchaseToken: token), test, type) with
        {
            Order = new OrderInfo
            {
                OrderId = saleId,
                Currency = currency,
                RefundAmount = refunded,
                RefundId = id,
                RefundedTotal = total,
                FullyRefunded = reversed ? true : null,
                RelatedIds = Related(root.Str("resource.billing_agreement_id"), root.Str("resource.parent_payment"),
                    root.Str("resource.invoice_number"), PayPalCustom.Id(custom)),
            },
            Subscription = root.Str("resource.billing_agreement_id") is { } agreement ? new SubscriptionInfo { SubscriptionId = agreement } : null,
        });
    }

    /// <summary>A v1 money object (<c>{total, currency}</c>) in minor units.</summary>
    private static (long? Amount, string? Currency) V1Amount(JsonElement root, string path, bool optional = false)
    {
        if (root.Path(path) is not { ValueKind: JsonValueKind.Object } m)
        {
            return optional ? (null, null) : throw new MappingException($"{path}: required, expected {{total, currency}}");
        }
        var currency = Money.Currency(m.Str("currency"))
            ?? throw new MappingException($"{path}.currency: required, expected an ISO 4217 code");
        var total = m.Str("total");
        var amount = Money.FromMajor(total, currency)
            ?? throw new MappingException($"{path}.total: required, expected a decimal amount such as \"14.90\"; got '{total}'");
        return (amount, currency);
    }

    /// <summary>The sale id in a v1 refund's <c>links[rel=sale]</c> (…/v1/payments/sale/{id}).</summary>
    private static string? UpSale(JsonElement root)
    {
        foreach (var link in root.Array("resource.links"))
        {
            if (link.Str("rel") is not ("sale" or "up") || !Uri.TryCreate(link.Str("href"), UriKind.Absolute, out var href)) continue;
            var segments = href.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.IndexOf(segments, "sale");
            if (at > 0 && at == segments.Length - 2) return Uri.UnescapeDataString(segments[at + 1]);
        }
        return null;
    }

    private static MapResult Refund(RawInput raw, JsonElement root, string type, bool test, DateTimeOffset created)
    {
        var refundId = root.RequiredStr("resource.id");
        var captureId = UpCapture(root)
            ?? throw new MappingException("resource.links[rel=up].href: required, expected …/v2/payments/captures/{capture id}");
        if (Wants(raw, CaptureKey)) return Fetch(CaptureKey, $"/v2/payments/captures/{Uri.EscapeDataString(captureId)}");
        var capture = Enriched(raw, CaptureKey);
        var orderId = capture?.Str("supplementary_data.related_ids.order_id");
        if (orderId is not null && Wants(raw, OrderKey)) return Fetch(OrderKey, OrderPath(orderId));
        var order = Enriched(raw, OrderKey);

        var (refunded, currency) = Amount(root, "resource.amount");
        if (refunded is null) throw new MappingException("resource.amount: required, expected {value, currency_code}");
        var (total, _) = Amount(root, "resource.seller_payable_breakdown.total_refunded_amount");
        var (captured, _) = capture is { } c ? Amount(c, "amount", "capture.amount") : (null, null);
        // A reversal (chargeback, PayPal's own) takes the whole capture back; otherwise compare the
        // cumulative total with what was captured, else trust the capture's status when fetched.
        bool? full = type == "PAYMENT.CAPTURE.REVERSED" ? true
            : total is not null && captured is not null ? total >= captured
            : capture?.Str("status") switch { "REFUNDED" => true, "PARTIALLY_REFUNDED" => false, _ => null };
        var custom = root.Str("resource.custom_id") ?? capture?.Str("custom_id");
        var (token, _) = PayPalCustom.Parse(custom);
        // The refund's own time, which PayPal writes with the merchant's offset (kept as original_timezone).
        var when = root.Time("resource.create_time") ?? created;
        return Single(raw.Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{refundId}", when, Payer(order, token), test, type) with
        {
            Order = new OrderInfo
            {
                // The capture, as on its PAYMENT.CAPTURE.COMPLETED: known from the payload, with or without credentials.
                OrderId = captureId,
                Amount = captured,
                Currency = currency,
                Items = Items(order),
                RefundAmount = refunded,
                RefundId = refundId,
                RefundedTotal = total,
                FullyRefunded = full,
                RelatedIds = Related(orderId, root.Str("resource.invoice_id") ?? capture?.Str("invoice_id"), PayPalCustom.Id(custom)),
            },
        });
    }

    /// <summary>
    /// won/lost from <c>dispute_outcome.outcome_code</c> (Disputes v1 API reference): the buyer won
    /// when PayPal found for the buyer or the seller accepted the claim; the seller kept the money
    /// when PayPal found for the seller, paid the buyer itself, or the buyer withdrew or was denied.
    /// </summary>
    private static string DisputeOutcome(JsonElement root)
    {
        var code = root.Str("resource.dispute_outcome.outcome_code");
        return code switch
        {
            "RESOLVED_BUYER_FAVOUR" or "ACCEPTED" => "lost",
            "RESOLVED_SELLER_FAVOUR" or "RESOLVED_WITH_PAYOUT" or "CANCELED_BY_BUYER" or "DENIED" => "won",
            _ => throw new MappingException(
                $"resource.dispute_outcome.outcome_code: expected RESOLVED_BUYER_FAVOUR, RESOLVED_SELLER_FAVOUR, RESOLVED_WITH_PAYOUT, CANCELED_BY_BUYER, ACCEPTED or DENIED on a resolved dispute; got '{code}'"),
        };
    }

    /// <summary>True when the source can fetch and this key has not been fetched yet.</summary>
    private static bool Wants(RawInput raw, string key) => raw.CanEnrich && !raw.Enrichment.ContainsKey(key);

    private static MapResult.NeedsEnrichment Fetch(string key, string path) => new([new EnrichmentRequest(key, path)]);

    private static string OrderPath(string orderId) => $"/v2/checkout/orders/{Uri.EscapeDataString(orderId)}";

    private static JsonElement? Enriched(RawInput raw, string key) =>
        raw.Enrichment.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);

    private static string[] Related(params string?[] ids) => ids.Where(i => !string.IsNullOrEmpty(i)).Distinct(StringComparer.Ordinal).ToArray()!;

    private static DateTimeOffset When(JsonElement root, DateTimeOffset created) =>
        root.Time("resource.update_time") ?? root.Time("resource.create_time") ?? created;

    /// <summary>A v2 money object (<c>{value, currency_code}</c>) in minor units; (null, null) when absent.</summary>
    private static (long? Amount, string? Currency) Amount(JsonElement obj, string path, string? shownAs = null)
    {
        shownAs ??= path;
        if (obj.Path(path) is not { ValueKind: JsonValueKind.Object } m) return (null, null);
        var currency = Money.Currency(m.Str("currency_code"))
            ?? throw new MappingException($"{shownAs}.currency_code: required, expected an ISO 4217 code");
        var value = m.Str("value");
        var amount = Money.FromMajor(value, currency)
            ?? throw new MappingException($"{shownAs}.value: expected a decimal amount such as \"10.99\"; got '{value}'");
        return (amount, currency);
    }

    /// <summary>The capture id in the refund's <c>links[rel=up]</c> (…/v2/payments/captures/{id}).</summary>
    private static string? UpCapture(JsonElement root)
    {
        foreach (var link in root.Array("resource.links"))
        {
            if (link.Str("rel") != "up" || !Uri.TryCreate(link.Str("href"), UriKind.Absolute, out var href)) continue;
            var segments = href.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.IndexOf(segments, "captures");
            if (at > 0 && at == segments.Length - 2 && segments[at - 1] == "payments") return Uri.UnescapeDataString(segments[at + 1]);
        }
        return null;
    }

    private static Subject Payer(JsonElement? order, string? purchaseToken) => order is { } o
        ? Subject.From(o.Str("payer.email_address"), o.Str("payer.payer_id"), purchaseToken, name: FullName(o, "payer.name"))
        : Subject.From(null, purchaseToken: purchaseToken);

    private static Subject Subscriber(JsonElement? subscription, string? purchaseToken) => subscription is { } s
        ? Subject.From(s.Str("subscriber.email_address"), s.Str("subscriber.payer_id"), purchaseToken, name: FullName(s, "subscriber.name"))
        : Subject.From(null, purchaseToken: purchaseToken);

    private static string? FullName(JsonElement obj, string path)
    {
        var name = string.Join(' ', new[] { obj.Str(path + ".given_name"), obj.Str(path + ".surname") }.Where(n => !string.IsNullOrWhiteSpace(n)));
        return name.Length > 0 ? name : obj.Str(path + ".full_name");
    }

    /// <summary>Line items of an Orders v2 order: <c>purchase_units[].items[]</c>, line total = unit_amount × quantity.</summary>
    private static List<OrderItem> Items(JsonElement? order)
    {
        if (order is not { } o) return [];
        var items = new List<OrderItem>();
        foreach (var unit in o.Array("purchase_units"))
        {
            foreach (var item in unit.Array("items"))
            {
                var quantity = (int)(item.Whole("quantity") ?? 1);
                var currency = Money.Currency(item.Str("unit_amount.currency_code"));
                var unitAmount = currency is null ? null : Money.FromMajor(item.Str("unit_amount.value"), currency);
                items.Add(new OrderItem
                {
                    Sku = item.Str("sku"),
                    Name = item.Str("name"),
                    Quantity = quantity,
                    Amount = unitAmount * quantity,
                });
            }
        }
        return items;
    }

    /// <summary>A subscription's plan as its one item (Subscriptions v1: <c>plan_id</c>, <c>quantity</c>).</summary>
    private static OrderInfo? PlanOrder(JsonElement? subscription, string orderId) =>
        subscription is { } s && s.Str("plan_id") is { } plan
            ? new OrderInfo { OrderId = orderId, Items = [new OrderItem { PriceId = plan, Sku = plan, Quantity = (int)(s.Whole("quantity") ?? 1) }] }
            : null;

    private static bool IsSandbox(RawInput raw, JsonElement root)
    {
        static bool Sandbox(string? url) =>
            Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Host.Contains("sandbox", StringComparison.OrdinalIgnoreCase);
        return Sandbox(raw.Header("paypal-cert-url"))
            || root.Array("links").Any(l => Sandbox(l.Str("href")))
            || root.Array("resource.links").Any(l => Sandbox(l.Str("href")));
    }
}
