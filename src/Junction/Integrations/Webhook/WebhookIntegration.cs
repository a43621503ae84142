using Junction.Dispatch;

namespace Junction.Integrations.Webhook;

/// <summary>Outgoing webhooks: canonical events to any receiver, signed per Standard Webhooks; also an alert notifier.</summary>
public sealed class WebhookIntegration : IIntegration
{
    public string Name => "Webhook";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = "webhook",
        Traits = DestinationTraits.EventsOnly,
        BaseUrlExpected = "the absolute http(s) URL to deliver to",
        Credentials = ["secret"],
        // A receiver publishes no limit: a modest 10/s.
        DefaultRate = 10,
        Maps = ["events"],
        Connector = (config, http, time) => new WebhookConnector(config, http, time),
    };

    public Alerts.NotifierDescriptor? Notifier => WebhookNotifier.Descriptor;
}
