using Junction.Providers;

namespace Junction.Integrations.LemonSqueezy;

/// <summary>Lemon Squeezy webhooks (orders, subscriptions, refunds).</summary>
public sealed class LemonSqueezyIntegration : IIntegration
{
    public string Name => "LemonSqueezy";

    public IWebhookProvider? Source { get; } = new LemonSqueezyProvider();
}
