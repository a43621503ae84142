using System.Diagnostics.CodeAnalysis;
using Junction.Providers.Shopify;
using Junction.Providers.StandardWebhooks;
using Junction.Providers.Stripe;

namespace Junction.Providers;

public static class ProviderRegistry
{
    // One line per provider folder.
    public static readonly IReadOnlyList<IWebhookProvider> All =
    [
        new StripeProvider(),
        new ShopifyProvider(),
        new StandardWebhooksProvider(),
        new PayPal.PayPalProvider(),
        new PayPalIpn.PayPalIpnProvider(),
        new Gumroad.GumroadProvider(),
        new LemonSqueezy.LemonSqueezyProvider(),
        new Paddle.PaddleProvider(),
        new WooCommerce.WooCommerceProvider(),
        new Calendly.CalendlyProvider(),
        new Acuity.AcuityProvider(),
        new Zoom.ZoomProvider(),
        new Kit.KitProvider(),
        new Mailchimp.MailchimpProvider(),
        new ActiveCampaign.ActiveCampaignProvider(),
        new Teachable.TeachableProvider(),
        new Thinkific.ThinkificProvider(),
        new Kajabi.KajabiProvider(),
        new Capture.FormProvider(),
        new Capture.ApiProvider(),
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    public static bool TryGet(string name, [NotNullWhen(true)] out IWebhookProvider? provider)
    {
        provider = All.FirstOrDefault(p => p.Name.Equals(name, StringComparison.Ordinal));
        return provider is not null;
    }

    public static IWebhookProvider Get(string name) =>
        TryGet(name, out var found) ? found : throw new ArgumentException($"unknown provider '{name}'", nameof(name));
}
