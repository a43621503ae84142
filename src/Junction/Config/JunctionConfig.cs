using Junction.Admin;

namespace Junction.Config;

/// <summary>The whole configuration, validated. Built only by <see cref="ConfigLoader"/>.</summary>
public sealed record JunctionConfig
{
    public required string Storage { get; init; }
    public required AdminConfig Admin { get; init; }
    private readonly State.Policy _configuredPolicy = State.Policy.Empty;
    private readonly State.Policy _policy = State.Policy.Empty;
    private readonly IReadOnlyDictionary<string, SourceConfig> _sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal);

    public required IReadOnlyDictionary<string, SourceConfig> Sources
    {
        get => _sources;
        init
        {
            _sources = value;
            _policy = SourceRules.Apply(_configuredPolicy, value);
        }
    }

    /// <summary>Bearer keys accepted by POST /v1/events (<c>api_keys:</c>); none means that endpoint refuses every request.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];
    /// <summary>
    /// tags:, products:, ownership:, identity: and lifecycle: — what the person-state fold and
    /// identity resolution read — with the rules for unauthenticated sources always derived from
    /// <see cref="Sources"/>, so no way of building a config can leave a form source unrestricted.
    /// </summary>
    public State.Policy Policy
    {
        get => _policy;
        init
        {
            _configuredPolicy = value;
            _policy = SourceRules.Apply(value, _sources);
        }
    }

    /// <summary>destinations: — where person state and events are delivered, by id.</summary>
    public IReadOnlyDictionary<string, Dispatch.DestinationConfig> Destinations { get; init; } = new Dictionary<string, Dispatch.DestinationConfig>(StringComparer.Ordinal);

    /// <summary>audits: — the revenue leak audit's window, thresholds, heal switch and schedule.</summary>
    public Audit.AuditSettings Audits { get; init; } = Audit.AuditSettings.Default;

    /// <summary>smoke: — the synthetic lead → purchase → refund of <c>junction smoke</c>; null when not configured.</summary>
    public Audit.SmokeSettings? Smoke { get; init; }

    /// <summary>alerts:, notifiers: and runbooks: — the alert rules, who hears of them, and each rule's runbook.</summary>
    public Alerts.AlertSettings Alerts { get; init; } = Junction.Alerts.AlertSettings.Default;

    /// <summary>metrics.token: when set, GET /metrics needs <c>Authorization: Bearer</c> with it; null leaves /metrics open.</summary>
    public string? MetricsToken { get; init; }

    /// <summary>telemetry.otlp_endpoint: the OTLP/HTTP collector traces are exported to (…/v1/traces); null exports none.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Where it came from: a file path, or null for the built-in demo configuration.</summary>
    public string? Path { get; init; }

    public bool IsDemo => Path is null;
}

/// <summary>
/// <c>admin.tokens</c>. <see cref="Tokens"/> are the secrets in config order; <see cref="Entries"/> add each
/// one's role and name. Built from strings alone (a bare string in the config), every token is an admin
/// named <c>token-N</c>, which is what configs without roles meant.
/// </summary>
public sealed record AdminConfig(IReadOnlyList<string> Tokens)
{
    private readonly IReadOnlyList<AdminTokenEntry>? _entries;

    public AdminConfig(IReadOnlyList<string> tokens, IReadOnlyList<AdminTokenEntry> entries)
        : this(tokens)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count != tokens.Count || entries.Where((e, i) => !string.Equals(e.Token, tokens[i], StringComparison.Ordinal)).Any())
        {
            throw new ArgumentException("entries must hold the same tokens as tokens, in the same order", nameof(entries));
        }
        _entries = entries;
    }

    public IReadOnlyList<AdminTokenEntry> Entries =>
        _entries ?? [.. Tokens.Select((t, i) => new AdminTokenEntry(t, AdminRole.Admin, AdminTokenEntry.DefaultName(i)))];

    public static AdminConfig WithRoles(IReadOnlyList<AdminTokenEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return new([.. entries.Select(e => e.Token)], entries);
    }
}

/// <summary>One admin token, its role, and the name recorded as the actor of what it does.</summary>
public sealed record AdminTokenEntry(string Token, AdminRole Role, string Name)
{
    /// <summary><c>token-N</c>, N the 1-based position in <c>admin.tokens</c>.</summary>
    public static string DefaultName(int index) => $"token-{index + 1}";

    // Records print every property; the token is a secret, so it is left out.
    public override string ToString() => $"{Name} ({AdminRoles.Name(Role)})";
}

public sealed record SourceConfig
{
    public const int DefaultMaxBodyBytes = 1024 * 1024;
    public const int DefaultToleranceSeconds = 300;

    public required string Id { get; init; }
    public required string Provider { get; init; }
    public required IReadOnlyList<string> Secrets { get; init; }
    public int ToleranceSeconds { get; init; } = DefaultToleranceSeconds;
    public int MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>Provider-specific keys (webhook_id, api_key, api_base_url …), already expanded from the environment.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public string? Option(string key) => Options.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    /// <summary>An API key, or a client id with its secret: enough to call the provider's API.</summary>
    public bool HasApiCredentials => Option("api_key") is not null || (Option("client_id") is not null && Option("client_secret") is not null);
}
