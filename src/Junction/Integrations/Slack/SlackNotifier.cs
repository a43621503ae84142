using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Junction.Alerts;

namespace Junction.Integrations.Slack;

/// <summary>
/// Alert notifications to a Slack incoming webhook (api.slack.com/messaging/webhooks):
/// <c>{"text", "blocks"}</c>, the text being the fallback shown in notifications. The URL is the
/// secret (anyone holding it can post to the channel), so it is never logged.
/// </summary>
public static class SlackNotifier
{
    public static NotifierDescriptor Descriptor { get; } = new()
    {
        Type = "slack",
        UrlExpected = "the Slack incoming webhook URL (https://hooks.slack.com/services/…)",
        Request = (notifier, message, _) =>
        {
            var body = new JsonObject
            {
                ["text"] = message.Title,
                ["blocks"] = new JsonArray(
                    new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Clip(message.Title, 150) } },
                    new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip(message.Text, 3000) } }),
            };
            return new HttpRequestMessage(HttpMethod.Post, notifier.Url)
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
        },
    };

    // Slack's limits: a header's plain text at most 150 characters, a section's text 3000.
    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
