using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Integrations.Klaviyo;

/// <summary>Klaviyo: profiles, list consent, tags as a property or lists, and order events (Placed Order, Refunded Order), read back for the audit.</summary>
public sealed class KlaviyoIntegration : IIntegration
{
    public string Name => "Klaviyo";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = KlaviyoDestination.Type,
        Traits = DestinationTraits.Contacts with { Events = true, DefaultEvents = [EventTypes.OrderPaid, EventTypes.OrderRefunded] },
        DefaultBaseUrl = KlaviyoDestination.DefaultBaseUrl,
        Credentials = KlaviyoDestination.Credentials,
        DefaultRate = KlaviyoDestination.DefaultRate,
        Maps = ["tags", "fields", "events"],
        RequiredOptions = KlaviyoDestination.RequiredOptions,
        OptionalOptions = KlaviyoDestination.OptionalOptions,
        Connector = KlaviyoDestination.CreateConnector,
        ReadBack = KlaviyoDestination.CreateReadBack,
    };
}
