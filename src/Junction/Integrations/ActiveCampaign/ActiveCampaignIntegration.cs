using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>ActiveCampaign webhooks (subscribes, unsubscribes, tags).</summary>
public sealed class ActiveCampaignIntegration : IIntegration
{
    public string Name => "ActiveCampaign";

    public Import.SubscriberExport? SubscriberExport => ActiveCampaignExport.Layout;

    public IWebhookProvider? Source { get; } = new ActiveCampaignProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = ActiveCampaignDestination.Type,
        Traits = DestinationTraits.Contacts with { Erases = true },
        DefaultBaseUrl = ActiveCampaignDestination.DefaultBaseUrl,
        Credentials = ActiveCampaignDestination.Credentials,
        DefaultRate = ActiveCampaignDestination.DefaultRate,
        BaseUrlExpected = "your account's API URL from Settings → Developer, e.g. https://youraccount.api-us1.com",
        Maps = ["tags", "fields"],
        RequiredOptions = ActiveCampaignDestination.RequiredOptions,
        OptionalOptions = ActiveCampaignDestination.OptionalOptions,
        Connector = ActiveCampaignDestination.CreateConnector,
        ReadBack = ActiveCampaignDestination.CreateReadBack,
    };
}
