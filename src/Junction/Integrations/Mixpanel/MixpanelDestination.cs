using Junction.Dispatch;

namespace Junction.Integrations.Mixpanel;

/// <summary>
/// Mixpanel as an event destination: what the config loader, the planner and the docs need to know.
/// Analytics: test-mode events are skipped (the planner should declare the "skip test events" trait
/// GA4 has; the connector also drops them, so a test sale never counts as revenue).
/// </summary>
public static class MixpanelDestination
{
    public const string Type = "mixpanel";

    /// <summary>US residency; EU projects set base_url https://api-eu.mixpanel.com, India https://api-in.mixpanel.com.</summary>
    public const string DefaultBaseUrl = "https://api.mixpanel.com";

    /// <summary>
    /// Mixpanel limits ingestion by volume, not by requests: 2 GB of uncompressed JSON per minute, about
    /// 30k events/s per project (docs.mixpanel.com/reference/rate-limits). Each request carries up to
    /// 2000 events, so a modest 10 requests/s is far under it.
    /// </summary>
    public const double DefaultRate = 10;

    /// <summary>
    /// A service account (username and secret) with project_id, the documented way to authenticate
    /// /import (docs.mixpanel.com/reference/import-events#authentication). Without a username the
    /// secret is used as the legacy project secret.
    /// </summary>
    public static readonly IReadOnlyList<string> Credentials = ["username", "secret"];

    /// <summary>Type-specific keys beyond type, base_url, credentials, rate_limit and retry.</summary>
    public static readonly IReadOnlyList<string> Keys = ["events", "project_id", "token", "people"];

    public static readonly IReadOnlyList<string> RequiredOptions = ["project_id"];

    /// <summary><c>token</c>: the project token, put on every event and required for the Engage API (<c>people: true</c>).</summary>
    public static readonly IReadOnlyList<string> OptionalOptions = ["token"];

    /// <summary>true/false options: <c>people</c> sets $email and $name on each person's profile.</summary>
    public static readonly IReadOnlyList<string> FlagOptions = ["people"];

    /// <summary>Test-mode events (a Stripe test purchase) are not analytics: the planner should not plan them.</summary>
    public const bool SkipsTestEvents = true;

    /// <summary>Batched by default (R5.6): the import API takes up to <see cref="MixpanelConnector.MaxEventsPerRequest"/> events per request.</summary>
    public const bool Batched = true;

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new MixpanelConnector(config, http, time);
}
