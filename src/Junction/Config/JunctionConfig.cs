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

    /// <summary>metrics.token: when set, GET /metrics needs <c>Authorization: Bearer</c> with it; null leaves /metrics open.</summary>
    public string? MetricsToken { get; init; }

    /// <summary>telemetry.otlp_endpoint: the OTLP/HTTP collector traces are exported to (…/v1/traces); null exports none.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Where it came from: a file path, or null for the built-in demo configuration.</summary>
    public string? Path { get; init; }

    public bool IsDemo => Path is null;
}

public sealed record AdminConfig(IReadOnlyList<string> Tokens);

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
