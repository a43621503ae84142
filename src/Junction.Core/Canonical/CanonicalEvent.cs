using System.Security.Cryptography;
using System.Text;

namespace Junction.Canonical;

/// <summary>
/// One thing that happened, in Junction's own terms: what every stage after normalization reads.
/// The shape is documented field by field in docs/events.md; keep the two in step.
/// </summary>
public sealed record CanonicalEvent
{
    public required string Id { get; init; }
    public required string RawId { get; init; }
    public required string Source { get; init; }
    public required string Provider { get; init; }
    public required string Type { get; init; }

    /// <summary>The provider's own name for what happened (e.g. <c>charge.refunded</c>).</summary>
    public string? ProviderType { get; init; }

    /// <summary>When it happened, in UTC.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The offset or zone the provider stated the time in (e.g. <c>-05:00</c>, <c>America/Los_Angeles</c>).</summary>
    public string? OriginalTimezone { get; init; }

    public required string TraceId { get; init; }
    public required Subject Subject { get; init; }
    public OrderInfo? Order { get; init; }
    public SubscriptionInfo? Subscription { get; init; }
    public ChargebackInfo? Chargeback { get; init; }
    public Attribution? Attribution { get; init; }
    public bool TestMode { get; init; }

    /// <summary>
    /// A deterministic id from the source and a key naming the fact (not the delivery), so the same
    /// fact arriving twice — a retried quarantine, a webhook and a backfill — is one event.
    /// </summary>
    public static string MakeId(string source, string factKey)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(source + "\n" + factKey));
        return "ce_" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}

/// <summary>Everything the payload says about who this is. Any of it may be missing.</summary>
public sealed record Subject
{
    /// <summary>Trimmed and lower-cased, for matching.</summary>
    public string? Email { get; init; }

    /// <summary>As the provider sent it.</summary>
    public string? EmailRaw { get; init; }

    public string? CustomerId { get; init; }

    /// <summary>A token the landing page put on the checkout (e.g. Stripe client_reference_id), to join a guest checkout to its lead.</summary>
    public string? PurchaseToken { get; init; }

    /// <summary>E.164.</summary>
    public string? Phone { get; init; }

    public string? Name { get; init; }

    public static Subject From(string? email, string? customerId = null, string? purchaseToken = null, string? phone = null, string? name = null) => new()
    {
        Email = Identifiers.NormalizeEmail(email),
        EmailRaw = string.IsNullOrWhiteSpace(email) ? null : email,
        CustomerId = string.IsNullOrWhiteSpace(customerId) ? null : customerId,
        PurchaseToken = string.IsNullOrWhiteSpace(purchaseToken) ? null : purchaseToken,
        Phone = Identifiers.NormalizePhone(phone),
        Name = string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
    };
}

/// <summary>An order and, on refunds, how much of it was given back. Amounts are minor units of <see cref="Currency"/>.</summary>
public sealed record OrderInfo
{
    /// <summary>The provider's key that the purchase and its refunds and disputes share.</summary>
    public required string OrderId { get; init; }

    public IReadOnlyList<OrderItem> Items { get; init; } = [];

    public long? Amount { get; init; }

    /// <summary>ISO 4217, upper case.</summary>
    public string? Currency { get; init; }

    /// <summary>What this event refunded.</summary>
    public long? RefundAmount { get; init; }

    /// <summary>The provider's id of the refund, so one refund reported by two event types counts once.</summary>
    public string? RefundId { get; init; }

    /// <summary>Everything refunded on the order so far, where the provider says.</summary>
    public long? RefundedTotal { get; init; }

    /// <summary>True when the order is now fully refunded.</summary>
    public bool? FullyRefunded { get; init; }

    /// <summary>The provider's other ids for the same order (checkout session, charge, invoice …).</summary>
    public IReadOnlyList<string> RelatedIds { get; init; } = [];
}

public sealed record OrderItem
{
    public string? Sku { get; init; }
    public string? ProductId { get; init; }
    public string? PriceId { get; init; }
    public string? Name { get; init; }
    public int Quantity { get; init; } = 1;

    /// <summary>Line total in minor units.</summary>
    public long? Amount { get; init; }
}

public sealed record SubscriptionInfo
{
    public required string SubscriptionId { get; init; }
    public string? Status { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public string? Reason { get; init; }
}

public sealed record ChargebackInfo
{
    public required string DisputeId { get; init; }
    public string? Status { get; init; }

    /// <summary><c>won</c> or <c>lost</c> on chargeback.closed.</summary>
    public string? Outcome { get; init; }

    public string? Reason { get; init; }
    public long? Amount { get; init; }
    public string? Currency { get; init; }
}

/// <summary>UTM parameters and where the visit came from, as found in the payload.</summary>
public sealed record Attribution
{
    public string? UtmSource { get; init; }
    public string? UtmMedium { get; init; }
    public string? UtmCampaign { get; init; }
    public string? UtmTerm { get; init; }
    public string? UtmContent { get; init; }
    public string? Referrer { get; init; }
    public string? LandingPage { get; init; }

    public bool IsEmpty => UtmSource is null && UtmMedium is null && UtmCampaign is null && UtmTerm is null
        && UtmContent is null && Referrer is null && LandingPage is null;
}
