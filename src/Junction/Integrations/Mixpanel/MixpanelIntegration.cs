using Junction.Dispatch;

namespace Junction.Integrations.Mixpanel;

/// <summary>Mixpanel: events through the Import API in batches, optional people profiles.</summary>
public sealed class MixpanelIntegration : IIntegration
{
    public string Name => "Mixpanel";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = MixpanelDestination.Type,
        // Batched by default: the Import API takes up to 2000 events a request.
        Traits = DestinationTraits.EventsOnly with { SkipsTestEvents = MixpanelDestination.SkipsTestEvents, BatchByDefault = true },
        DefaultBaseUrl = MixpanelDestination.DefaultBaseUrl,
        Credentials = MixpanelDestination.Credentials,
        DefaultRate = MixpanelDestination.DefaultRate,
        Maps = ["events"],
        MaxBatch = MixpanelConnector.MaxEventsPerRequest,
        FlagOptions = MixpanelDestination.FlagOptions,
        RequiredOptions = MixpanelDestination.RequiredOptions,
        OptionalOptions = MixpanelDestination.OptionalOptions,
        Connector = MixpanelDestination.CreateConnector,
    };
}
