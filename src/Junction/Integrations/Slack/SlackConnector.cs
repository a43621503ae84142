using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Slack;

/// <summary>
/// Slack notifier (event destination): one message per notified event, POSTed as <c>{"text": …}</c>
/// to the incoming webhook in <c>credentials.webhook_url</c> (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks).
/// Slack answers 200 "ok"; 400 invalid_payload, 403 action_prohibited, 404 no_service /
/// channel_not_found and 410 channel_is_archived will not change by retrying (permanent); 429 carries
/// Retry-After; 5xx is transient (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
/// The URL is a secret: it is never shown in the DLQ or in an error.
/// Slack has no idempotency key for webhooks: a retry after a lost answer may post twice.
/// </summary>
public sealed class SlackConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    /// <summary>What the DLQ shows instead of the webhook URL.</summary>
    public const string ShownPath = "/services/…";

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var attempt = new DestinationHttp(http, time);
        if (work.Event is not { } canonical) return attempt.Permanent("slack: the task carries no canonical event");
        var notified = Config.Events.Count > 0 ? Config.Events : SlackDestination.DefaultEvents;
        if (!notified.Contains(canonical.Type)) return attempt.Succeeded();
        if (SlackTemplates.Problems(Config) is [var (path, message), ..]) return attempt.Permanent($"{path}: {message}");
        var text = SlackTemplates.Render(SlackTemplates.TemplateFor(Config, canonical.Type), canonical);
        return await PostTextAsync(text, cancellationToken);
    }

    /// <summary>Posts one plain message (alerts use this too: a failed enrollment, a destination down).</summary>
    public async Task<DeliveryResult> PostTextAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        var attempt = new DestinationHttp(http, time);
        if (WebhookUrl() is not { } url)
        {
            return attempt.Permanent($"destinations.{Config.Id}.credentials.webhook_url: expected the incoming webhook URL, an absolute https URL (https://hooks.slack.com/services/…)");
        }
        var body = new JsonObject { ["text"] = text }.ToJsonString();
        var reply = await attempt.SendAsync(HttpMethod.Post, url, ShownPath, body, null, cancellationToken);
        if (reply.IsSuccess) return attempt.Succeeded();
        var failure = attempt.Failed(reply, "slack");
        if (reply.Status is 403 or 404 or 410)
        {
            failure = failure with
            {
                Error = failure.Error + $" (destinations.{Config.Id}.credentials.webhook_url: the webhook was removed, or its channel deleted or archived; create a new one)",
            };
        }
        return failure;
    }

    private Uri? WebhookUrl()
    {
        if (!Config.Credentials.TryGetValue("webhook_url", out var text) || string.IsNullOrWhiteSpace(text)) return null;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url)) return null;
        // Plain http only to a loopback address (a local relay, the tests): the URL is a secret.
        return url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback) ? url : null;
    }
}
