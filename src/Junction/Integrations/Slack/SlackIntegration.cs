namespace Junction.Integrations.Slack;

/// <summary>Slack: alert notifications to an incoming webhook.</summary>
public sealed class SlackIntegration : IIntegration
{
    public string Name => "Slack";

    public Alerts.NotifierDescriptor? Notifier => SlackNotifier.Descriptor;
}
