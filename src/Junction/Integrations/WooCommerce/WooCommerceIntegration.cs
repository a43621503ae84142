using Junction.Providers;

namespace Junction.Integrations.WooCommerce;

/// <summary>WooCommerce order webhooks.</summary>
public sealed class WooCommerceIntegration : IIntegration
{
    public string Name => "WooCommerce";

    public IWebhookProvider? Source { get; } = new WooCommerceProvider();
}
