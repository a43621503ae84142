using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Integrations.Ga4;

/// <summary>Google Analytics 4 through the Measurement Protocol: purchases and refunds for revenue reporting.</summary>
public sealed class Ga4Integration : IIntegration
{
    public string Name => "Ga4";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = "ga4",
        // For revenue reporting: without an explicit events: list it gets purchases and refunds only,
        // and a test purchase (a sandbox, a provider's test mode) never counts as revenue.
        // Batched by default: whatever events: adds beyond purchases and refunds (which never wait) can
        // share requests.
        Traits = DestinationTraits.EventsOnly with
        {
            DefaultEvents = [EventTypes.OrderPaid, EventTypes.OrderRefunded], SkipsTestEvents = true, BatchByDefault = true,
        },
        DefaultBaseUrl = "https://www.google-analytics.com",
        Credentials = ["api_secret"],
        // The Measurement Protocol publishes no request limit: a modest 10/s.
        DefaultRate = 10,
        Maps = ["events"],
        // "Requests can have a maximum of 25 events" (developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events).
        MaxBatch = 25,
        RequiredOptions = ["measurement_id"],
        FlagOptions = ["validate"],
        Connector = (config, http, time) => new Ga4Connector(config, http, time),
    };
}
