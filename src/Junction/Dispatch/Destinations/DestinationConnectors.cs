using Junction.Dispatch.Destinations.Kit;
using Junction.Dispatch.Destinations.Mailchimp;

namespace Junction.Dispatch.Destinations;

/// <summary>Builds the connector for a configured destination.</summary>
public static class DestinationConnectors
{
    public const string HttpClientName = "junction-destinations";

    public static IDestinationConnector Create(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        // One line per type.
        return config.Type switch
        {
            DestinationTypes.Kit => new KitConnector(config, http, time),
            DestinationTypes.Mailchimp => new MailchimpConnector(config, http, time),
            DestinationTypes.Teachable => new Teachable.TeachableConnector(config, http, time),
            DestinationTypes.Webhook => new Webhook.WebhookConnector(config, http, time),
            DestinationTypes.Ga4 => new Ga4.Ga4Connector(config, http, time),
            _ => throw new NotSupportedException($"destination type '{config.Type}' ({config.Id}) has no connector in this build"),
        };
    }
}
