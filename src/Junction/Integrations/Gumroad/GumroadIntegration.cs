using Junction.Providers;

namespace Junction.Integrations.Gumroad;

/// <summary>Gumroad's Ping (sale, refund, dispute) with a URL token.</summary>
public sealed class GumroadIntegration : IIntegration
{
    public string Name => "Gumroad";

    public IWebhookProvider? Source { get; } = new GumroadProvider();
}
