namespace Junction.Alerts;

/// <summary>
/// <c>alerts:</c>, <c>notifiers:</c> and <c>runbooks:</c> (R7.2, R7.6). Every rule is on with the
/// seeds' defaults unless the config turns it off or changes it; validated by the config loader.
/// </summary>
public sealed record AlertSettings
{
    /// <summary>How often the elected node evaluates every rule.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(1);

    public IReadOnlyDictionary<string, AlertRule> Rules { get; init; } = AlertRules.Defaults;

    public IReadOnlyDictionary<string, NotifierConfig> Notifiers { get; init; } = new Dictionary<string, NotifierConfig>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Runbook> Runbooks { get; init; } = new Dictionary<string, Runbook>(StringComparer.Ordinal);

    public static AlertSettings Default { get; } = new();

    /// <summary>Who hears of a rule's incidents: its own <c>notify:</c>, else its runbook's, else every notifier.</summary>
    public IReadOnlyList<string> NotifyFor(string rule) =>
        Rules.GetValueOrDefault(rule)?.Notify ?? Runbooks.GetValueOrDefault(rule)?.Notify ?? [.. Notifiers.Keys.Order(StringComparer.Ordinal)];
}

/// <summary>One rule: when its condition holds for <see cref="For"/> it opens an incident; healthy for <see cref="Cooldown"/> closes it.</summary>
public sealed record AlertRule
{
    public required string Name { get; init; }
    public bool Enabled { get; init; } = true;

    /// <summary>The rule's limit: a fraction (0.02 = 2%) for rates and drops, a multiple for source_silent, a count for dlq_growing.</summary>
    public required double Threshold { get; init; }

    /// <summary>The span the signal is read over (30 min of payments, one hour against the same hour yesterday …).</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>How long the condition must hold before it fires; zero fires at the first evaluation that sees it.</summary>
    public TimeSpan For { get; init; } = TimeSpan.Zero;

    /// <summary>How long it must be healthy before its incident closes by itself.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The least traffic the comparison needs (attempts, yesterday's events): below it the rule stays quiet rather than guess.</summary>
    public long MinEvents { get; init; }

    public string Severity { get; init; } = "warning";

    /// <summary>Notifier ids; null: the runbook's, else every notifier.</summary>
    public IReadOnlyList<string>? Notify { get; init; }
}

public static class AlertRules
{
    public const string PaymentFailures = "payment_failures";
    public const string EnrollmentsDown = "enrollments_down";
    public const string IngestionDown = "ingestion_down";
    public const string ReconciliationLow = "reconciliation_low";
    public const string DlqGrowing = "dlq_growing";
    public const string SourceSilent = "source_silent";
    public const string SmokeFailing = "smoke_failing";
    public const string AuditOverThreshold = "audit_over_threshold";

    public static IReadOnlyList<string> Names { get; } =
        [PaymentFailures, EnrollmentsDown, IngestionDown, ReconciliationLow, DlqGrowing, SourceSilent, SmokeFailing, AuditOverThreshold];

    /// <summary>The seeds' defaults (R7.2).</summary>
    public static IReadOnlyDictionary<string, AlertRule> Defaults { get; } = new Dictionary<string, AlertRule>(StringComparer.Ordinal)
    {
        [PaymentFailures] = new() { Name = PaymentFailures, Threshold = 0.02, Window = TimeSpan.FromMinutes(30), MinEvents = 10, Severity = "critical" },
        [EnrollmentsDown] = new() { Name = EnrollmentsDown, Threshold = 0.30, Window = TimeSpan.FromHours(1), MinEvents = 5, Severity = "critical" },
        [IngestionDown] = new() { Name = IngestionDown, Threshold = 0.50, Window = TimeSpan.FromHours(1), MinEvents = 10 },
        [ReconciliationLow] = new() { Name = ReconciliationLow, Threshold = 0.90, Window = TimeSpan.Zero },
        [DlqGrowing] = new() { Name = DlqGrowing, Threshold = 0, Window = TimeSpan.FromMinutes(30) },
        [SourceSilent] = new() { Name = SourceSilent, Threshold = 3, Window = TimeSpan.FromMinutes(30), MinEvents = 5, Severity = "critical" },
        [SmokeFailing] = new() { Name = SmokeFailing, Threshold = 0, Window = TimeSpan.Zero, Severity = "critical" },
        [AuditOverThreshold] = new() { Name = AuditOverThreshold, Threshold = 0, Window = TimeSpan.Zero },
    };
}

public static class NotifierTypes
{
    /// <summary>SMTP, Junction's own; the types that post to a URL come from their integrations (<see cref="NotifierDescriptor"/>).</summary>
    public const string Email = "email";
}

/// <summary>A notifier (<c>notifiers.ID</c>): a URL an integration posts to (a chat tool's incoming webhook, a signed webhook), or SMTP.</summary>
public sealed record NotifierConfig
{
    public required string Id { get; init; }
    public required string Type { get; init; }

    /// <summary>Types that post to a URL: where to POST.</summary>
    public Uri? Url { get; init; }

    /// <summary>Types that sign: the signing secret. Never logged.</summary>
    public string? Secret { get; init; }

    public string? Host { get; init; }
    public int Port { get; init; } = 587;
    public bool StartTls { get; init; } = true;
    public string? Username { get; init; }

    /// <summary>Never logged.</summary>
    public string? Password { get; init; }

    public string? From { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
}

/// <summary>A rule's runbook: who to notify, the one-click rollback, the manual fallback.</summary>
public sealed record Runbook
{
    public IReadOnlyList<string>? Notify { get; init; }
    public RunbookAction? Rollback { get; init; }
    public string? Fallback { get; init; }
}

/// <summary><c>pause: DEST</c> or <c>resume: DEST</c>: the dispatcher's own pause and resume.</summary>
public sealed record RunbookAction(string Kind, string Target)
{
    public const string Pause = "pause";
    public const string Resume = "resume";

    public override string ToString() => $"{Kind}: {Target}";
}
