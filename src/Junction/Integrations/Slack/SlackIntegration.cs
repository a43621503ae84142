using Junction.Dispatch;

namespace Junction.Integrations.Slack;

/// <summary>Slack: business notifications (a sale, a refund …) to an incoming webhook with templates, and alert notifications.</summary>
public sealed class SlackIntegration : IIntegration
{
    public string Name => "Slack";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = SlackDestination.Type,
        Traits = DestinationTraits.EventsOnly with { DefaultEvents = SlackDestination.DefaultEvents },
        DefaultBaseUrl = SlackDestination.DefaultBaseUrl,
        Credentials = SlackDestination.Credentials,
        DefaultRate = SlackDestination.DefaultRate,
        Maps = ["events"],
        RequiredOptions = SlackDestination.RequiredOptions,
        OptionalOptions = SlackDestination.OptionalOptions,
        // Unknown placeholders in a template are a config error at load, not a dead letter later.
        ValidateOptions = SlackTemplates.Problems,
        Connector = SlackDestination.CreateConnector,
    };

    public Alerts.NotifierDescriptor? Notifier => SlackNotifier.Descriptor;
}
