using Junction.Providers;

namespace Junction.Integrations.Shopify;

/// <summary>Shopify: order webhooks (HMAC-signed), backfill and payment read-back from the orders list.</summary>
public sealed class ShopifyIntegration : IIntegration
{
    public string Name => "Shopify";

    public IWebhookProvider? Source { get; } = new ShopifyProvider();
}
