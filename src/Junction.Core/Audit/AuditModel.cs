using Junction.Dispatch;
using Junction.Identity;
using Junction.State;

namespace Junction.Audit;

/// <summary>The five audit points of the revenue leak audit (R6.1), with their contract names and severities.</summary>
public static class AuditPoints
{
    public const int CaptureMisrouting = 1;
    public const int PaymentAttributionGaps = 2;
    public const int PaidWithoutAccess = 3;
    public const int DuplicateOrDelayedTags = 4;
    public const int RefundLeaks = 5;

    public static readonly IReadOnlyList<AuditPoint> All =
    [
        new(CaptureMisrouting, "capture_misrouting", Severities.Medium),
        new(PaymentAttributionGaps, "payment_attribution_gaps", Severities.Medium),
        new(PaidWithoutAccess, "paid_without_access", Severities.High),
        new(DuplicateOrDelayedTags, "duplicate_or_delayed_tags", Severities.Low),
        new(RefundLeaks, "refund_leaks", Severities.High),
    ];

    public static AuditPoint? ByName(string name) => All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
}

public sealed record AuditPoint(int Number, string Name, string Severity);

public static class Severities
{
    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";
}

/// <summary>The <c>audits:</c> section.</summary>
public sealed record AuditSettings
{
    public static readonly AuditSettings Default = new();

    /// <summary>Orders and opt-ins looked at: those of the last <see cref="Window"/>.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Mismatch rate above which a point fails (0.01 = 1%).</summary>
    public double Threshold { get; init; } = 0.01;

    /// <summary>Per point name, replacing <see cref="Threshold"/>.</summary>
    public IReadOnlyDictionary<string, double> Thresholds { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>A tag that reached its destination later than this after its cause is a finding of point 4.</summary>
    public TimeSpan DelayThreshold { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>False: report only.</summary>
    public bool Heal { get; init; } = true;

    /// <summary>Cadence per object (payments, enrollments, tags); zero or absent = on demand only.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Schedule { get; init; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
    {
        [AuditObjects.Payments] = TimeSpan.FromMinutes(30),
        [AuditObjects.Enrollments] = TimeSpan.FromHours(1),
        [AuditObjects.Tags] = TimeSpan.FromHours(24),
    };

    public double ThresholdOf(AuditPoint point) => Thresholds.TryGetValue(point.Name, out var t) ? t : Threshold;
}

/// <summary>What a scheduled audit reads back: payment sources, course platforms, email platforms.</summary>
public static class AuditObjects
{
    public const string Payments = "payments";
    public const string Enrollments = "enrollments";
    public const string Tags = "tags";

    public static readonly IReadOnlyList<string> All = [Payments, Enrollments, Tags];
}

/// <summary>Subscription status as a destination reports it, in Junction's words.</summary>
public static class ObservedStatus
{
    public const string Subscribed = "subscribed";
    public const string Pending = "pending";
    public const string Unsubscribed = "unsubscribed";

    /// <summary>Bounced, cleaned, complained: the destination will not mail it.</summary>
    public const string Inactive = "inactive";

    /// <summary>The destination holds the contact but says nothing of a subscription (a course platform).</summary>
    public const string None = "none";
}

/// <summary>One contact as a destination really holds it, limited to what Junction manages there.</summary>
public sealed record ObservedContact
{
    /// <summary>Trimmed, lower case.</summary>
    public required string Email { get; init; }

    /// <summary><see cref="ObservedStatus"/>; null when the read did not cover subscriptions.</summary>
    public string? Status { get; init; }

    /// <summary>Destination tag name → when the destination says it was added (null: not said).</summary>
    public IReadOnlyDictionary<string, DateTimeOffset?> Tags { get; init; } = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);

    /// <summary>Destination course id → when the enrollment started (null: not said).</summary>
    public IReadOnlyDictionary<string, DateTimeOffset?> Courses { get; init; } = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
}

/// <summary>What one state destination holds, read in bulk (holders of each mapped tag, enrollments of each mapped course, members by page).</summary>
public sealed record DestinationReadBack
{
    public required string Destination { get; init; }

    /// <summary>By email (lower case). A person absent here holds nothing Junction manages there.</summary>
    public required IReadOnlyDictionary<string, ObservedContact> Contacts { get; init; }

    /// <summary>True when the read covered subscription status (email platforms).</summary>
    public bool CoversSubscriptions { get; init; }

    /// <summary>Mapped tags or courses the destination does not have at all (a typo, a deleted tag): what the pre-launch checklist names.</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];

    public int ApiCalls { get; init; }
}

/// <summary>A payment as the provider's own list has it.</summary>
public sealed record ObservedPayment
{
    public required string Source { get; init; }

    /// <summary>The id Junction's ledger uses for the order (the mapper's order id).</summary>
    public required string OrderId { get; init; }

    /// <summary><see cref="OrderStatuses"/>: paid, partially_refunded or refunded.</summary>
    public required string Status { get; init; }

    public long? Amount { get; init; }
    public string? Currency { get; init; }
    public required DateTimeOffset At { get; init; }
    public bool TestMode { get; init; }
}

public sealed record PaymentReadBack
{
    public required string Source { get; init; }
    public required IReadOnlyList<ObservedPayment> Payments { get; init; }
    public int ApiCalls { get; init; }
}

/// <summary>An opt-in event in the window, as the ledger logged it.</summary>
public sealed record OptinFact(string PersonId, string EventId, string Source, DateTimeOffset At, bool ConsentGranted);

/// <summary>One person as the audit sees them: identity, state, and when they first became a lead.</summary>
public sealed record AuditPerson
{
    public required string PersonId { get; init; }
    public required PersonIdentity Identity { get; init; }
    public required PersonState State { get; init; }

    /// <summary>The earliest opt-in (or consent grant) the ledger has for them; null when none.</summary>
    public DateTimeOffset? FirstLeadAt { get; init; }

    /// <summary>Smoke-test and test-mode people never count.</summary>
    public bool Test { get; init; }
}

/// <summary>Tag additions Junction sent, counted per (destination, person, tag, cause): more than one is a duplicate.</summary>
public sealed record TagSends(string Destination, string PersonId, string Tag, string Cause, int Count);

public sealed record AuditInput
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required Policy Policy { get; init; }
    public required AuditSettings Settings { get; init; }
    public required IReadOnlyList<DestinationConfig> Destinations { get; init; }
    public required IReadOnlyList<AuditPerson> People { get; init; }
    public IReadOnlyList<OptinFact> Optins { get; init; } = [];

    /// <summary>Per state destination id; a destination missing here was not read back (its checks are skipped).</summary>
    public IReadOnlyDictionary<string, DestinationReadBack> ReadBacks { get; init; } = new Dictionary<string, DestinationReadBack>(StringComparer.Ordinal);

    /// <summary>Per payment source id; a source missing here was not read back.</summary>
    public IReadOnlyDictionary<string, PaymentReadBack> Payments { get; init; } = new Dictionary<string, PaymentReadBack>(StringComparer.Ordinal);

    public IReadOnlyList<TagSends> TagSends { get; init; } = [];

    /// <summary>Fingerprints of findings an operator accepted: not reported again.</summary>
    public IReadOnlySet<string> Accepted { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

public static class HealActions
{
    /// <summary>Converge the destination to the person's desired state, diffing against what it really holds.</summary>
    public const string Resync = "resync";

    /// <summary>Pull the missed payment from the provider through intake (dedupe and normalization as a webhook).</summary>
    public const string Backfill = "backfill";

    /// <summary>Nothing Junction can do by itself (a mapping to fix, contacts to merge by hand, an unsubscribe it must not undo): reported for review.</summary>
    public const string Review = "review";

    /// <summary>Nothing to repair (the tag did arrive, late).</summary>
    public const string None = "none";
}

public static class HealStatuses
{
    public const string Planned = "planned";
    public const string Queued = "queued";
    public const string Healed = "healed";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string ReportOnly = "report_only";
}

public sealed record AuditFinding
{
    public required int Point { get; init; }
    public required string Kind { get; init; }

    /// <summary>Null for a payment the provider has and the ledger lacks (nobody is known yet).</summary>
    public string? PersonId { get; init; }
    public string? OrderId { get; init; }

    /// <summary>Null when the mismatch is inside Junction (e.g. an entitlement not active).</summary>
    public string? Destination { get; init; }

    public required string Expected { get; init; }
    public required string Observed { get; init; }
    public required string HealAction { get; init; }

    /// <summary>For <see cref="HealActions.Backfill"/>: the payment source.</summary>
    public string? Source { get; init; }

    /// <summary>For revenue at risk.</summary>
    public long? Amount { get; init; }

    public string? Currency { get; init; }

    /// <summary>Same person, point, order, destination and kind → same fingerprint: what accepting a finding remembers.</summary>
    public string Fingerprint => string.Join('|', Point, Kind, PersonId, OrderId ?? "", Destination ?? "", Source ?? "");
}

public sealed record PointReport
{
    public required AuditPoint Point { get; init; }
    public required int Checked { get; init; }

    /// <summary>Checked items with at least one finding (an order with a missing tag and a missing course is one).</summary>
    public required int Mismatches { get; init; }

    public required double Threshold { get; init; }
    public required IReadOnlyList<AuditFinding> Findings { get; init; }

    /// <summary>Minor units per currency (upper case), summed once per affected order.</summary>
    public required IReadOnlyDictionary<string, long> RevenueAtRisk { get; init; }

    public double Rate => Checked == 0 ? 0 : (double)Mismatches / Checked;

    public bool OverThreshold => Rate > Threshold;
}

/// <summary>A heal to carry out: one per (destination, person) re-sync, one per missed payment.</summary>
public sealed record HealPlan
{
    public required string Action { get; init; }
    public string? Destination { get; init; }
    public string? PersonId { get; init; }

    /// <summary>Resync: what the destination holds of what Junction manages, as the baseline to diff against.</summary>
    public DesiredContact? Observed { get; init; }

    public string? Source { get; init; }
    public string? OrderId { get; init; }
}

public sealed record AuditResult
{
    public required IReadOnlyList<PointReport> Points { get; init; }
    public required IReadOnlyList<HealPlan> Heals { get; init; }
}
