using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Junction.Alerts;
using Junction.Providers;

namespace Junction.Integrations.Webhook;

/// <summary>
/// Alert notifications as a Standard Webhooks message, signed like the webhook destination:
/// <c>{type, timestamp, data}</c> with the incident as data; webhook-id names the incident and the
/// event, so a receiver can dedupe.
/// </summary>
public static class WebhookNotifier
{
    public static NotifierDescriptor Descriptor { get; } = new()
    {
        Type = "webhook",
        UrlExpected = "the receiver's http(s) URL",
        Secret = secret => WebhookSignatures.DecodeSecret(secret) is null
            ? $"a Standard Webhooks secret: {WebhookSignatures.SecretExpected}, e.g. \"${{ALERT_WEBHOOK_SECRET}}\""
            : null,
        Request = (notifier, message, now) =>
        {
            var key = WebhookSignatures.DecodeSecret(notifier.Secret ?? "") ?? throw new InvalidOperationException($"notifiers.{notifier.Id}.secret is not a whsec_ secret");
            var body = new JsonObject
            {
                ["type"] = message.Event,
                ["timestamp"] = Observability.Iso.Utc(now),
                ["data"] = message.Incident.DeepClone(),
            }.ToJsonString();
            var id = $"{message.Incident["id"]}.{message.Event}.{now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
            var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var request = new HttpRequestMessage(HttpMethod.Post, notifier.Url)
            {
                Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            request.Headers.TryAddWithoutValidation("webhook-id", id);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
            request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignatures.Sign(key, id, timestamp, body));
            return request;
        },
    };
}
