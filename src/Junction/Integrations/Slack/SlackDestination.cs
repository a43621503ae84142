using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Integrations.Slack;

/// <summary>
/// The Slack notifier as a destination: business notifications (a sale, a refund …) posted to an
/// incoming webhook. What the config loader, the planner and the docs need to know.
/// </summary>
public static class SlackDestination
{
    public const string Type = "slack";

    /// <summary>The incoming webhook URL itself is the credential (<c>webhook_url</c>); base_url is not used for delivery.</summary>
    public const string DefaultBaseUrl = "https://hooks.slack.com";

    /// <summary>
    /// Slack allows posting messages at 1 per second, short bursts above it tolerated
    /// (api.slack.com/docs/rate-limits, "Posting messages" and "Incoming webhooks"); a 429 carries Retry-After.
    /// </summary>
    public const double DefaultRate = 1;

    /// <summary><c>webhook_url</c>: https://hooks.slack.com/services/T…/B…/…, a secret (anyone holding it can post to the channel).</summary>
    public static readonly IReadOnlyList<string> Credentials = ["webhook_url"];

    /// <summary>
    /// Events notified when <c>events:</c> is not set. Junction has no canonical "enrollment failed" event
    /// (a failed enrollment is a dead-lettered delivery task, an alert's business, not an event);
    /// <see cref="SlackConnector.PostTextAsync"/> is there for alerts to post it.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultEvents = [EventTypes.OrderPaid, EventTypes.OrderRefunded];

    /// <summary><c>template_&lt;event type with '.' as '_'&gt;</c> for every canonical event type, e.g. template_order_paid.</summary>
    public static readonly IReadOnlyList<string> OptionalOptions = [.. EventTypes.All.Order(StringComparer.Ordinal).Select(SlackTemplates.OptionKey)];

    public static readonly IReadOnlyList<string> RequiredOptions = [];

    /// <summary>Type-specific keys beyond type, base_url, credentials, rate_limit and retry.</summary>
    public static readonly IReadOnlyList<string> Keys = ["events", .. OptionalOptions];

    /// <summary>Every unknown placeholder in a configured template, as (key path, what was expected), for the config loader.</summary>
    public static IReadOnlyList<(string Path, string Message)> Validate(DestinationConfig config) => SlackTemplates.Problems(config);

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new SlackConnector(config, http, time);
}
