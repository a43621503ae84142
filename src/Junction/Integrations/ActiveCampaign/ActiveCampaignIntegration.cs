using Junction.Providers;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>ActiveCampaign webhooks (subscribes, unsubscribes, tags).</summary>
public sealed class ActiveCampaignIntegration : IIntegration
{
    public string Name => "ActiveCampaign";

    public IWebhookProvider? Source { get; } = new ActiveCampaignProvider();
}
