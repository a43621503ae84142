using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Integrations.HubSpot;

/// <summary>HubSpot CRM: contacts with mapped properties and tags, optional subscription status, and deals for orders (deals: true), read back for the audit.</summary>
public sealed class HubSpotIntegration : IIntegration
{
    public string Name => "HubSpot";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = HubSpotDestination.Type,
        Traits = DestinationTraits.Contacts,
        // With deals: true, orders become deals: the contact also receives its purchases and refunds.
        TraitsWith = options => options.GetValueOrDefault(HubSpotDestination.Deals) == "true"
            ? DestinationTraits.Contacts with { Events = true, DefaultEvents = [EventTypes.OrderPaid, EventTypes.OrderRefunded] }
            : DestinationTraits.Contacts,
        DefaultBaseUrl = HubSpotDestination.DefaultBaseUrl,
        Credentials = HubSpotDestination.Credentials,
        DefaultRate = HubSpotDestination.DefaultRate,
        Maps = ["tags", "fields"],
        FlagOptions = HubSpotDestination.FlagOptions,
        RequiredOptions = HubSpotDestination.RequiredOptions,
        OptionalOptions = HubSpotDestination.OptionalOptions,
        Connector = HubSpotDestination.CreateConnector,
        ReadBack = HubSpotDestination.CreateReadBack,
    };
}
