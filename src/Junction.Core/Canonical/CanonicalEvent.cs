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

    /// <summary>The first touch the landing page remembered (the <c>first_utm_*</c> cookie), when the event carries one.</summary>
    public Attribution? FirstTouch { get; init; }

    /// <summary>Consent given or withdrawn with this event, per channel (optin, unsubscribe, spam_complaint).</summary>
    public IReadOnlyList<ConsentInfo> Consent { get; init; } = [];

    /// <summary>Course or membership access granted or revoked (access.granted / access.revoked).</summary>
    public AccessInfo? Access { get; init; }

    public WebinarInfo? Webinar { get; init; }
    public BookingInfo? Booking { get; init; }

    /// <summary>Tags as the provider named them (tag.added / tag.removed), or the list or form joined (optin).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    public bool TestMode { get; init; }

    /// <summary>
    /// A record of something that already happened elsewhere (an imported subscriber list), not a
    /// live happening: it builds the person's state but starts no lifecycle timer and is not sent to
    /// event destinations, so an import neither re-welcomes nor replays anyone. Left out of the JSON when false.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Historical { get; init; }

    /// <summary>
    /// For a historical event: the tool whose own export it was read from (<c>junction import --from</c>),
    /// a destination type. A person that only such events created is already in that tool as they are,
    /// so no state is sent there for them. Left out of the JSON when null.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? ImportedFrom { get; init; }

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

    /// <summary>The address this person had before, on email.changed (normalized like <see cref="Email"/>).</summary>
    public string? PreviousEmail { get; init; }

    /// <summary>A first-party cookie or device id from a landing page (lowest-priority identifier).</summary>
    public string? AnonymousId { get; init; }

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

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => UtmSource is null && UtmMedium is null && UtmCampaign is null && UtmTerm is null
        && UtmContent is null && Referrer is null && LandingPage is null;
}

/// <summary>One channel's consent as the event states it.</summary>
public sealed record ConsentInfo
{
    /// <summary><c>email</c>, <c>sms</c>, <c>whatsapp</c> … (lower case).</summary>
    public required string Channel { get; init; }

    /// <summary>True when given, false when withdrawn (unsubscribe, spam complaint, unticked box).</summary>
    public required bool Granted { get; init; }

    /// <summary>Where it was given or withdrawn: the form, list or provider (e.g. <c>kit form 12345</c>).</summary>
    public string? Source { get; init; }

    public DateTimeOffset? At { get; init; }

    /// <summary>The consent text shown, when the provider or form gives it.</summary>
    public string? Wording { get; init; }

    public string? Version { get; init; }

    /// <summary>Double opt-in confirmed (where the provider distinguishes it).</summary>
    public bool? Confirmed { get; init; }
}

/// <summary>Access to a course, membership or product on a course platform.</summary>
public sealed record AccessInfo
{
    /// <summary>The platform's id of the course/product/offer the access is to.</summary>
    public required string ProductId { get; init; }

    public string? ProductName { get; init; }

    /// <summary>The platform's id of this enrollment or grant, when it has one.</summary>
    public string? EnrollmentId { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Why access ended, when the platform says (expired, unenrolled, refunded …).</summary>
    public string? Reason { get; init; }
}

/// <summary>A webinar registration or attendance.</summary>
public sealed record WebinarInfo
{
    public required string WebinarId { get; init; }

    /// <summary>The occurrence of a recurring webinar, when there is one.</summary>
    public string? OccurrenceId { get; init; }

    public string? Topic { get; init; }
    public string? RegistrantId { get; init; }

    /// <summary>Scheduled start, UTC.</summary>
    public DateTimeOffset? StartsAt { get; init; }

    /// <summary>The webinar's own time zone as the provider states it (IANA name).</summary>
    public string? Timezone { get; init; }

    /// <summary><c>live</c> or <c>recording</c> on webinar.attended.</summary>
    public string? Attendance { get; init; }

    /// <summary>How long they stayed (live) or watched (recording), in seconds.</summary>
    public long? DurationSeconds { get; init; }

    public DateTimeOffset? JoinedAt { get; init; }
    public DateTimeOffset? LeftAt { get; init; }
}

/// <summary>A booked call or appointment.</summary>
public sealed record BookingInfo
{
    public required string BookingId { get; init; }

    /// <summary>The kind of meeting booked (Calendly event type, Acuity appointment type …).</summary>
    public string? EventType { get; init; }

    public string? Name { get; init; }

    /// <summary>Start, UTC.</summary>
    public DateTimeOffset? StartsAt { get; init; }

    public DateTimeOffset? EndsAt { get; init; }

    /// <summary>The invitee's time zone as the provider states it (IANA name, e.g. <c>America/New_York</c>).</summary>
    public string? Timezone { get; init; }

    /// <summary>On booking.rescheduled: the booking this one replaces (or the new one, on the old booking's cancel).</summary>
    public string? RescheduledFrom { get; init; }

    public string? RescheduledTo { get; init; }

    public DateTimeOffset? PreviousStartsAt { get; init; }

    public string? CancelReason { get; init; }

    /// <summary>Who canceled: <c>invitee</c> or <c>host</c>, where the provider says.</summary>
    public string? CanceledBy { get; init; }
}
