namespace Junction.Bench.Leaks;

/// <summary>The fault kinds injected, in the order the report prints them.</summary>
internal static class Faults
{
    public const string Duplicated = "duplicated webhook";
    public const string Reordered = "reordered webhooks";
    public const string Missed = "webhook never sent";
    public const string Status500 = "destination 500";
    public const string Status429 = "destination 429 + Retry-After";
    public const string Timeout = "destination timeout";
    public const string SilentDrop = "silent drop (200, not applied)";
    public const string Tampered = "tampering after sync";

    public static readonly string[] All = [Duplicated, Reordered, Missed, Status500, Status429, Timeout, SilentDrop, Tampered];
}

/// <summary>Kinds of leak: a person whose state at a tool differs from the truth.</summary>
internal static class Leaks
{
    public const string NotSubscribed = "lead not subscribed at Kit";
    public const string PaidTagMissing = "paid, Kit paid tag missing";
    public const string PaidCourseMissing = "paid, Teachable enrollment missing";
    public const string RefundTag = "refunded, Kit paid tag still there";
    public const string RefundCourse = "refunded, still enrolled in Teachable";
}

/// <summary>One customer journey and the ground truth about it: what happened, and which faults hit it.</summary>
internal sealed class Journey
{
    public required int Index { get; init; }
    public required string Key { get; init; }
    public required string Email { get; init; }
    public required bool Buys { get; init; }
    public required bool Refunds { get; init; }
    public required DateTimeOffset OptinAt { get; init; }
    public string OrderId => "pi_" + Key;
    public string? PaidEvent { get; set; }
    public string? RefundEvent { get; set; }
    public bool Reordered { get; set; }
    public HashSet<string> Duplicated { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Missed { get; } = new(StringComparer.Ordinal);

    /// <summary>"500" or "429": the first write for this person at each destination fails so.</summary>
    public string? FailWith { get; set; }
    public HashSet<string> FailedAt { get; } = new(StringComparer.Ordinal);
    public bool TimedOut { get; set; }

    /// <summary>The one write (subscribe, tag_add, enroll, tag_remove, unenroll) silently dropped, and whether it happened.</summary>
    public string? DropOp { get; set; }
    public bool Dropped { get; set; }

    /// <summary>"tag" or "enrollment": removed by hand after the pipeline settled.</summary>
    public string? Tamper { get; set; }
    public string? PersonId { get; set; }

    public bool PaidActive => Buys && !Refunds;
    public bool MissedPaid => PaidEvent is not null && Missed.Contains(PaidEvent);
    public bool MissedRefund => RefundEvent is not null && Missed.Contains(RefundEvent);

    /// <summary>The fault kinds that actually hit this journey.</summary>
    public IEnumerable<string> FaultKinds()
    {
        if (Duplicated.Count > 0) yield return Faults.Duplicated;
        if (Reordered) yield return Faults.Reordered;
        if (Missed.Count > 0) yield return Faults.Missed;
        if (FailedAt.Count > 0) yield return FailWith == "429" ? Faults.Status429 : Faults.Status500;
        if (TimedOut) yield return Faults.Timeout;
        if (Dropped) yield return Faults.SilentDrop;
        if (Tamper is not null) yield return Faults.Tampered;
    }

    public bool Clean => !FaultKinds().Any();

    /// <summary>The fault that explains a leak of this kind, or null when none of the injected faults does.</summary>
    public string? Cause(string leak) => leak switch
    {
        Leaks.PaidTagMissing or Leaks.PaidCourseMissing when MissedPaid => Faults.Missed,
        Leaks.RefundTag or Leaks.RefundCourse when MissedRefund => Faults.Missed,
        Leaks.NotSubscribed when Dropped && DropOp == "subscribe" => Faults.SilentDrop,
        Leaks.PaidTagMissing when Tamper == "tag" => Faults.Tampered,
        Leaks.PaidCourseMissing when Tamper == "enrollment" => Faults.Tampered,
        Leaks.PaidTagMissing when Dropped && DropOp == "tag_add" => Faults.SilentDrop,
        Leaks.PaidCourseMissing when Dropped && DropOp == "enroll" => Faults.SilentDrop,
        Leaks.RefundTag when Dropped && DropOp == "tag_remove" => Faults.SilentDrop,
        Leaks.RefundCourse when Dropped && DropOp == "unenroll" => Faults.SilentDrop,
        _ => null,
    };

    /// <summary>The audit point a leak of this kind belongs to: a missed webhook is point 2's, whatever it left behind.</summary>
    public int ExpectedPoint(string leak) => leak switch
    {
        Leaks.PaidTagMissing or Leaks.PaidCourseMissing when MissedPaid => 2,
        Leaks.RefundTag or Leaks.RefundCourse when MissedRefund => 2,
        Leaks.NotSubscribed => 1,
        Leaks.PaidTagMissing or Leaks.PaidCourseMissing => 3,
        _ => 5,
    };
}
