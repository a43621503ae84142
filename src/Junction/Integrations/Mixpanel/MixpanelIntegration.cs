using Junction.Dispatch;

namespace Junction.Integrations.Mixpanel;

/// <summary>Mixpanel: events through the Import API in batches, optional people profiles.</summary>
public sealed class MixpanelIntegration : IIntegration
{
    public string Name => "Mixpanel";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = MixpanelDestination.Type,
        Traits = DestinationTraits.EventsOnly with { SkipsTestEvents = MixpanelDestination.SkipsTestEvents },
        DefaultBaseUrl = MixpanelDestination.DefaultBaseUrl,
        Credentials = MixpanelDestination.Credentials,
        DefaultRate = MixpanelDestination.DefaultRate,
        Maps = ["events"],
        FlagOptions = MixpanelDestination.FlagOptions,
        RequiredOptions = MixpanelDestination.RequiredOptions,
        OptionalOptions = MixpanelDestination.OptionalOptions,
        Connector = MixpanelDestination.CreateConnector,
    };
}
