using System.Globalization;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.PayPal;

/// <summary>
/// PayPal IPN form fields → canonical events (IPN and PDT variables reference). By
/// <c>payment_status</c>: Completed → order.paid (subscription.renewed for <c>subscr_payment</c> and
/// <c>recurring_payment</c>; the first subscription payment is indistinguishable and counts as
/// renewed too), Pending → order.pending, Failed/Denied → payment.failed, Refunded/Reversed →
/// order.refunded on the <c>parent_txn_id</c> (a Reversed for a chargeback also opens a chargeback,
/// which Canceled_Reversal closes as won; the dispute id is the reversed payment's id). By
/// <c>txn_type</c>: subscr_cancel, subscr_eot, recurring_payment_profile_cancel → subscription.canceled;
/// subscr_failed, recurring_payment_failed/skipped → payment.failed; adjustment with reason_code
/// chargeback_settlement / chargeback_reimbursement → chargeback.closed lost / won. Order id <c>txn_id</c>; buyer
/// <c>payer_email</c>/<c>payer_id</c>; amount <c>mc_gross</c> in <c>mc_currency</c>; items
/// <c>item_number</c>/<c>item_name</c>/<c>quantity</c>, or numbered 1..n for carts;
/// <c>custom</c> as in <see cref="PayPalCustom"/>; <c>test_ipn=1</c> is test mode. PayPal writes
/// times in Pacific time (<c>10:45:12 Nov 20, 2026 PST</c>); its offset (−08:00 / −07:00) is kept.
/// </summary>
public sealed class PayPalIpnMapper : IPayloadMapper
{
    private static readonly string[] TimeFormats = ["HH:mm:ss MMM d, yyyy", "H:mm:ss MMM d, yyyy", "HH:mm:ss MMM dd, yyyy"];

    // reason_code values of a Reversed payment that are the buyer disputing it (IPN variables, reason_code).
    private static readonly HashSet<string> ChargebackReasons = new(StringComparer.Ordinal) { "chargeback", "buyer-complaint", "unauthorized_claim" };

    public MapResult Map(RawInput raw)
    {
        Fields f;
        try
        {
            f = new Fields(IpnForm.Parse(raw.Body, PayPalIpnProvider.CharsetOf(raw.ContentType)));
        }
        catch (ArgumentException ex)
        {
            return new MapResult.Quarantined($"charset: {ex.Message}; expected a character set such as windows-1252 or UTF-8");
        }
        var txnType = f.Get("txn_type");
        var status = f.Get("payment_status");
        if (txnType is null && status is null)
        {
            return new MapResult.Quarantined("txn_type, payment_status: expected an IPN message with at least one of them");
        }
        var providerType = string.Join('/', new[] { txnType, status }.Where(s => s is not null));
        return Mapping.Typed(providerType, () => MapFields(raw, f, txnType, status));
    }

    private static MapResult MapFields(RawInput raw, Fields f, string? txnType, string? status)
    {
        var test = f.Get("test_ipn") == "1";
        var (token, attribution) = PayPalCustom.Parse(f.Get("custom"));
        var subject = Subject.From(f.Get("payer_email"), f.Get("payer_id"), token,
            name: string.Join(' ', new[] { f.Get("first_name"), f.Get("last_name") }.Where(n => n is not null)));
        var providerType = string.Join('/', new[] { txnType, status }.Where(s => s is not null));

        // original_timezone is the offset PayPal's zone stood for (PST −08:00, PDT −07:00), as for every provider.
        CanonicalEvent Event(string type, string factKey, (DateTimeOffset At, string? Zone) when, Subject who) =>
            raw.Event(type, factKey, when.At, who, test, providerType);

        switch (txnType)
        {
            case "subscr_cancel":
            case "subscr_eot":
            case "recurring_payment_profile_cancel":
            {
                // subscr_cancel: the buyer or seller cancelled (subscr_date is the cancellation date);
                // subscr_eot: the subscription term ended (a separate fact, as it comes after a cancel too);
                // recurring_payment_profile_cancel: an Express Checkout recurring profile was cancelled.
                var eot = txnType == "subscr_eot";
                var subscriptionId = txnType == "recurring_payment_profile_cancel" ? f.Required("recurring_payment_id") : f.Required("subscr_id");
                (DateTimeOffset At, string? Zone) when = PacificTime(f, "subscr_date") is { } t ? t : (raw.ReceivedAt, null);
                return Single(Event(EventTypes.SubscriptionCanceled, $"{EventTypes.SubscriptionCanceled}:{subscriptionId}{(eot ? ":eot" : "")}", when, subject) with
                {
                    Subscription = new SubscriptionInfo
                    {
                        SubscriptionId = subscriptionId,
                        Status = eot ? "expired" : "canceled",
                        CanceledAt = eot ? null : when.At.ToUniversalTime(),
                        EndsAt = eot ? when.At.ToUniversalTime() : null,
                        Reason = txnType,
                    },
                    Attribution = attribution,
                });
            }
            case "subscr_failed":
            case "recurring_payment_failed":
            case "recurring_payment_skipped":
            {
                // A subscription payment attempt failed (no payment_status on these messages).
                var subscriptionId = f.Get("subscr_id") ?? f.Get("recurring_payment_id")
                    ?? throw new MappingException("subscr_id: required on a failed subscription payment (recurring_payment_id for recurring profiles)");
                (DateTimeOffset At, string? Zone) when = PacificTime(f, "payment_date") ?? PacificTime(f, "subscr_date") ?? (raw.ReceivedAt, null);
                var cur = Money.Currency(f.Get("mc_currency") ?? f.Get("currency_code"));
                var amount = cur is null ? null : Money.FromMajor(f.Get("mc_gross") ?? f.Get("mc_amount3") ?? f.Get("amount"), cur);
                var attempt = f.Get("ipn_track_id") ?? raw.DedupKey;
                return Single(Event(EventTypes.PaymentFailed, $"{EventTypes.PaymentFailed}:{subscriptionId}:{attempt}", when, subject) with
                {
                    Order = new OrderInfo { OrderId = subscriptionId, Amount = amount, Currency = cur, RelatedIds = Related(f.Get("invoice")) },
                    Subscription = new SubscriptionInfo { SubscriptionId = subscriptionId, Status = "past_due" },
                    Attribution = attribution,
                });
            }
            case "adjustment" when f.Get("reason_code") is "chargeback_reimbursement" or "chargeback_settlement":
            {
                // A dispute's money moved at its end (IPN reason_code): reimbursed to the seller → won;
                // settled against the seller → lost. parent_txn_id is the disputed payment.
                var parent = f.Required("parent_txn_id");
                var won = f.Get("reason_code") == "chargeback_reimbursement";
                var when = PacificTime(f, "payment_date") ?? (raw.ReceivedAt, null);
                var cur = Money.Currency(f.Get("mc_currency"));
                var amount = cur is null ? null : Money.FromMajor(f.Get("mc_gross"), cur);
                return Single(Event(EventTypes.ChargebackClosed, $"{EventTypes.ChargebackClosed}:{parent}", when, subject) with
                {
                    Order = new OrderInfo { OrderId = parent, Currency = cur, RelatedIds = Related(f.Get("txn_id"), f.Get("invoice")) },
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = f.Get("case_id") ?? parent,
                        Status = f.Get("reason_code"),
                        Outcome = won ? "won" : "lost",
                        Reason = f.Get("case_type") ?? f.Get("reason_code"),
                        Amount = amount is { } a ? Math.Abs(a) : null,
                        Currency = cur,
                    },
                });
            }
        }
        if (status is null || txnType is "masspay" or "payout" or "adjustment" or "new_case")
        {
            return new MapResult.Ignored($"IPN {providerType} is not one Junction uses");
        }
        if (status is not ("Completed" or "Pending" or "Failed" or "Denied" or "Refunded" or "Reversed" or "Canceled_Reversal"))
        {
            return new MapResult.Ignored($"IPN payment_status {status} is not one Junction uses");
        }

        var at = PacificTime(f, "payment_date")
            ?? throw new MappingException("payment_date: required, expected a time such as 10:45:12 Nov 20, 2026 PST");
        var currency = Money.Currency(f.Get("mc_currency")) ?? throw new MappingException("mc_currency: required, expected an ISO 4217 code");
        var gross = Money.FromMajor(f.Get("mc_gross"), currency)
            ?? throw new MappingException($"mc_gross: required, expected a decimal amount such as 10.00; got '{f.Get("mc_gross")}'");
        var txnId = f.Required("txn_id");

        switch (status)
        {
            case "Completed":
            case "Pending":
            case "Failed":
            case "Denied":
            {
                var recurring = txnType is "subscr_payment" or "recurring_payment";
                var subscriptionId = f.Get("subscr_id") ?? f.Get("recurring_payment_id");
                var canonical = status switch
                {
                    "Completed" => recurring ? EventTypes.SubscriptionRenewed : EventTypes.OrderPaid,
                    "Pending" => EventTypes.OrderPending,
                    _ => EventTypes.PaymentFailed,
                };
                return Single(Event(canonical, $"{canonical}:{txnId}", at, subject) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = txnId,
                        Amount = gross,
                        Currency = currency,
                        Items = Items(f, currency),
                        RelatedIds = Related(f.Get("invoice"), subscriptionId),
                    },
                    Subscription = recurring && subscriptionId is not null
                        ? new SubscriptionInfo { SubscriptionId = subscriptionId, Status = status == "Completed" ? "active" : null }
                        : null,
                    Attribution = attribution,
                });
            }
            case "Refunded":
            case "Reversed":
            {
                // mc_gross is negative on refunds and reversals; parent_txn_id is the payment they undo.
                var parent = f.Required("parent_txn_id");
                var refund = Event(EventTypes.OrderRefunded, $"{EventTypes.OrderRefunded}:{txnId}", at, subject) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = parent,
                        Currency = currency,
                        RefundAmount = Math.Abs(gross),
                        RefundId = txnId,
                        // A reversal can be partial and the message does not carry the original amount.
                        FullyRefunded = null,
                        RelatedIds = Related(f.Get("invoice")),
                    },
                };
                var reason = f.Get("reason_code");
                if (status == "Refunded" || reason is null || !ChargebackReasons.Contains(reason)) return Single(refund);
                var opened = Event(EventTypes.ChargebackOpened, $"{EventTypes.ChargebackOpened}:{parent}", at, subject) with
                {
                    Order = new OrderInfo { OrderId = parent, Currency = currency, RelatedIds = Related(f.Get("invoice")) },
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = parent,
                        Status = status,
                        Reason = reason,
                        Amount = Math.Abs(gross),
                        Currency = currency,
                    },
                };
                return new MapResult.Mapped([refund, opened]);
            }
            default: // Canceled_Reversal: the reversal was undone and the funds returned to the seller.
            {
                var parent = f.Required("parent_txn_id");
                return Single(Event(EventTypes.ChargebackClosed, $"{EventTypes.ChargebackClosed}:{parent}", at, subject) with
                {
                    Order = new OrderInfo { OrderId = parent, Currency = currency, RelatedIds = Related(txnId, f.Get("invoice")) },
                    Chargeback = new ChargebackInfo
                    {
                        DisputeId = parent,
                        Status = status,
                        Outcome = "won",
                        Reason = f.Get("reason_code"),
                        Amount = Math.Abs(gross),
                        Currency = currency,
                    },
                });
            }
        }
    }

    /// <summary>
    /// A PayPal IPN time (<c>HH:mm:ss Mon D, YYYY PST|PDT</c>) with its offset (PST −08:00, PDT −07:00)
    /// and the zone as PayPal wrote it; null when the field is absent.
    /// </summary>
    internal static (DateTimeOffset At, string? Zone)? PacificTime(Fields f, string field)
    {
        var text = f.Get(field);
        if (text is null) return null;
        var space = text.LastIndexOf(' ');
        var zone = space > 0 ? text[(space + 1)..] : "";
        var offset = zone switch
        {
            "PST" => TimeSpan.FromHours(-8),
            "PDT" => TimeSpan.FromHours(-7),
            _ => throw new MappingException($"{field}: expected a Pacific time ending in PST or PDT, such as 10:45:12 Nov 20, 2026 PST; got '{text}'"),
        };
        if (!DateTime.TryParseExact(text[..space].Trim(), TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AllowInnerWhite, out var local))
        {
            throw new MappingException($"{field}: expected a time such as 10:45:12 Nov 20, 2026 PST; got '{text}'");
        }
        return (new DateTimeOffset(local, offset), zone);
    }

    /// <summary>Cart items (<c>item_number1..n</c>, <c>item_name1..n</c>, <c>quantity1..n</c>, <c>mc_gross_1..n</c>), else the single item.</summary>
    private static List<OrderItem> Items(Fields f, string currency)
    {
        var items = new List<OrderItem>();
        for (var i = 1; i <= 1000 && (f.Has($"item_number{i}") || f.Has($"item_name{i}")); i++)
        {
            var sku = f.Get($"item_number{i}");
            var name = f.Get($"item_name{i}");
            if (sku is null && name is null) continue;
            items.Add(new OrderItem
            {
                Sku = sku,
                Name = name,
                Quantity = Quantity(f.Get($"quantity{i}")),
                Amount = Money.FromMajor(f.Get($"mc_gross_{i}"), currency),
            });
        }
        if (items.Count == 0 && (f.Get("item_number") is not null || f.Get("item_name") is not null))
        {
            // A single-item payment says no line total (mc_gross includes shipping and tax).
            items.Add(new OrderItem { Sku = f.Get("item_number"), Name = f.Get("item_name"), Quantity = Quantity(f.Get("quantity")) });
        }
        return items;
    }

    private static int Quantity(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q > 0 ? q : 1;

    private static MapResult.Mapped Single(CanonicalEvent e) => new([e]);

    private static string[] Related(params string?[] ids) => ids.Where(i => !string.IsNullOrEmpty(i)).Distinct(StringComparer.Ordinal).ToArray()!;

    internal sealed class Fields(Dictionary<string, string> fields)
    {
        public bool Has(string key) => fields.ContainsKey(key);

        public string? Get(string key) => fields.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        public string Required(string key) => Get(key) ?? throw new MappingException($"{key}: required, expected a non-empty value");
    }
}
