using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Junction.State;

/// <summary>
/// A person's state as of one instant: the shape of <c>GET /v1/people/{id}</c> (less id and
/// identity, which the identity graph owns). Every list is sorted, so two equal states serialize
/// to the same bytes and <see cref="Digest"/> can compare a rebuild with the live state.
/// </summary>
public sealed record PersonState
{
    public IReadOnlyList<string> Emails { get; init; } = [];

    /// <summary>The address the person uses now (the latest seen, or the new one after email.changed).</summary>
    public string? PrimaryEmail { get; init; }

    /// <summary>The address on the latest paid order (a guest checkout's payment email).</summary>
    public string? PurchaseEmail { get; init; }

    public IReadOnlyList<IdentifierState> Identifiers { get; init; } = [];
    public IReadOnlyList<ConsentState> Consent { get; init; } = [];
    public AttributionState Attribution { get; init; } = new();
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<EntitlementState> Entitlements { get; init; } = [];
    public IReadOnlyList<OrderState> Orders { get; init; } = [];
    public DerivedState Derived { get; init; } = new();
    public IReadOnlyList<WebinarState> Webinars { get; init; } = [];
    public IReadOnlyList<BookingState> Bookings { get; init; } = [];

    /// <summary>Due times a durable scheduler should fire (once each, by <see cref="TimerState.Key"/>).</summary>
    public IReadOnlyList<TimerState> Timers { get; init; } = [];

    /// <summary>Provider tags refused (outside the vocabulary, granted by a product, not allowed for the source): recorded, never applied.</summary>
    public IReadOnlyList<TagDrift> TagDrift { get; init; } = [];

    /// <summary>Writes refused because their source does not own the field.</summary>
    public IReadOnlyList<IgnoredWrite> IgnoredWrites { get; init; } = [];

    public IReadOnlyList<OverrideState> Overrides { get; init; } = [];

    /// <summary>
    /// True when every event of this person is a test event (a smoke run, a sandbox purchase):
    /// they never count in business figures. Left out of the JSON when false, so a real person's
    /// state and digest are the same as before the flag existed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Test { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The canonical JSON and its digest from one serialization.</summary>
    public (string Json, string Digest) ToJsonWithDigest()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);
        return (System.Text.Encoding.UTF8.GetString(bytes), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>SHA-256 (hex) of the canonical JSON.</summary>
    public string Digest() => Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions)));
}

public sealed record IdentifierState(string Type, string Value, string? Source);

public sealed record ConsentState
{
    public required string Channel { get; init; }
    public required bool Granted { get; init; }
    public string? Source { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? Wording { get; init; }
    public string? Version { get; init; }
    public bool? Confirmed { get; init; }
    public required string EventId { get; init; }
}

public sealed record AttributionState
{
    public TouchState? FirstTouch { get; init; }
    public TouchState? LastTouch { get; init; }
}

public sealed record TouchState
{
    public string? UtmSource { get; init; }
    public string? UtmMedium { get; init; }
    public string? UtmCampaign { get; init; }
    public string? UtmTerm { get; init; }
    public string? UtmContent { get; init; }
    public string? Referrer { get; init; }
    public string? LandingPage { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Source { get; init; }
    public required string EventId { get; init; }
}

public static class EntitlementStates
{
    public const string Active = "active";
    public const string PendingRevocation = "pending_revocation";
    public const string Revoked = "revoked";
}

public sealed record EntitlementState
{
    public required string Product { get; init; }

    /// <summary><c>active</c>, <c>pending_revocation</c> or <c>revoked</c>.</summary>
    public required string State { get; init; }

    public DateTimeOffset? GrantedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>While <c>pending_revocation</c>: when it takes effect.</summary>
    public DateTimeOffset? RevokesAt { get; init; }

    public string? Reason { get; init; }

    /// <summary>True when an operator override decides the state.</summary>
    public bool Override { get; init; }
}

public static class OrderStatuses
{
    public const string Pending = "pending";
    public const string Failed = "failed";
    public const string Paid = "paid";
    public const string PartiallyRefunded = "partially_refunded";
    public const string Refunded = "refunded";
    public const string Disputed = "disputed";
    public const string ChargebackLost = "chargeback_lost";
    public const string ChargebackWon = "chargeback_won";
}

public sealed record OrderState
{
    public required string OrderId { get; init; }
    public required string Source { get; init; }
    public required string Status { get; init; }
    public string? Currency { get; init; }

    /// <summary>Minor units.</summary>
    public long? Amount { get; init; }

    /// <summary>Minor units refunded so far (never more than <see cref="Amount"/> when that is known).</summary>
    public long Refunded { get; init; }

    public IReadOnlyList<OrderItemState> Items { get; init; } = [];
    public DateTimeOffset? PaidAt { get; init; }
    public DateTimeOffset? FulfilledAt { get; init; }

    /// <summary>When the latest refund happened; left out of the JSON until there is one, so unrefunded orders keep their bytes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RefundedAt { get; init; }
}

public sealed record OrderItemState(string? Sku, string? ProductId, string? PriceId, string? Name, int Quantity, long? Amount);

public sealed record DerivedState
{
    /// <summary>Orders ever paid.</summary>
    public int OrderCount { get; init; }

    public DateTimeOffset? FirstOrderAt { get; init; }
    public DateTimeOffset? LastOrderAt { get; init; }
    public string? FirstOrderSku { get; init; }
    public string? LastOrderSku { get; init; }

    /// <summary><c>none</c>, <c>new</c> (one order) or <c>returning</c>.</summary>
    public string BuyerStatus { get; init; } = "none";

    public IReadOnlyList<CurrencyTotals> Totals { get; init; } = [];
}

/// <summary>Per currency, minor units. Lifetime value is spent less refunds and lost chargebacks.</summary>
public sealed record CurrencyTotals(string Currency, long Spent, long Refunded, long LifetimeValue);

public sealed record WebinarState
{
    public required string WebinarId { get; init; }
    public string? OccurrenceId { get; init; }
    public string? Topic { get; init; }
    public DateTimeOffset? StartsAt { get; init; }
    public DateTimeOffset? RegisteredAt { get; init; }
    public DateTimeOffset? AttendedAt { get; init; }

    /// <summary><c>live</c> or <c>recording</c>.</summary>
    public string? Attendance { get; init; }

    public long? DurationSeconds { get; init; }
}

public sealed record BookingState
{
    public required string BookingId { get; init; }

    /// <summary><c>scheduled</c>, <c>canceled</c> or <c>rescheduled</c>.</summary>
    public required string Status { get; init; }

    public string? EventType { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset? StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public string? CancelReason { get; init; }
    public string? RescheduledFrom { get; init; }
    public string? RescheduledTo { get; init; }
}

public sealed record TimerState
{
    /// <summary>Stable across rebuilds: fire each key once.</summary>
    public required string Key { get; init; }

    /// <summary><c>revocation</c> or <c>lifecycle</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The product (revocation) or rule name (lifecycle).</summary>
    public required string Name { get; init; }

    public required DateTimeOffset DueAt { get; init; }

    /// <summary>True when <c>DueAt</c> is not after the instant the state was computed for.</summary>
    public required bool Due { get; init; }

    public string? AddTag { get; init; }
    public string? Emit { get; init; }

    /// <summary>The event that started the timer.</summary>
    public required string EventId { get; init; }
}

/// <summary>A tag write that was recorded and not applied, with why (<see cref="TagDriftReasons"/>).</summary>
public sealed record TagDrift(string Tag, string Action, string Source, string EventId, DateTimeOffset At, string Reason = TagDriftReasons.NotInVocabulary);

public static class TagDriftReasons
{
    public const string NotInVocabulary = "not in tags:";
    public const string ProductGranted = "granted only by a product's entitlement";
    public const string NotAllowedForSource = "not in the source's allowed_tags";
}

public sealed record IgnoredWrite(string Field, string Type, string Source, string Provider, string EventId, DateTimeOffset At);

public static class OverrideActions
{
    public const string Grant = "grant";
    public const string Revoke = "revoke";
    public const string Clear = "clear";
}

/// <summary>An operator's grant or revoke of a product (or the clearing of one). It wins until cleared.</summary>
public sealed record OperatorOverride
{
    public required string Id { get; init; }
    public required string Product { get; init; }

    /// <summary><see cref="OverrideActions"/>.</summary>
    public required string Action { get; init; }

    public string? Reason { get; init; }
    public required DateTimeOffset At { get; init; }
}

public sealed record OverrideState(string Product, string Action, string? Reason, DateTimeOffset At, string Id);
