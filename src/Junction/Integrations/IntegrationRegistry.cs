using Junction.Alerts;
using Junction.Providers;

namespace Junction.Integrations;

/// <summary>
/// Every integration Junction ships, one line each: the only place outside an integration's folder
/// that names it (IntegrationBoundaryTests holds the project to that). Everything else reads the
/// descriptors: the config loader (providers, destination types and their keys, notifier types),
/// ownership (provider kinds), the planner (destination traits), the dispatcher and the audit
/// (clients and read-backs), the demo configuration and the docs.
/// </summary>
public static class IntegrationRegistry
{
    // One line per integration folder.
    public static IReadOnlyList<IIntegration> All { get; } =
    [
        new Stripe.StripeIntegration(),
        new Shopify.ShopifyIntegration(),
        new StandardWebhooks.StandardWebhooksIntegration(),
        new PayPal.PayPalIntegration(),
        new Gumroad.GumroadIntegration(),
        new LemonSqueezy.LemonSqueezyIntegration(),
        new Paddle.PaddleIntegration(),
        new WooCommerce.WooCommerceIntegration(),
        new Calendly.CalendlyIntegration(),
        new Acuity.AcuityIntegration(),
        new Zoom.ZoomIntegration(),
        new Kit.KitIntegration(),
        new Mailchimp.MailchimpIntegration(),
        new ActiveCampaign.ActiveCampaignIntegration(),
        new Klaviyo.KlaviyoIntegration(),
        new HubSpot.HubSpotIntegration(),
        new Salesforce.SalesforceIntegration(),
        new Teachable.TeachableIntegration(),
        new Thinkific.ThinkificIntegration(),
        new Kajabi.KajabiIntegration(),
        new Webhook.WebhookIntegration(),
        new Ga4.Ga4Integration(),
        new Mixpanel.MixpanelIntegration(),
        new Slack.SlackIntegration(),
    ];

    /// <summary>Every webhook source an integration declares (Junction's own form and events API come on top, in <see cref="ProviderRegistry"/>).</summary>
    public static IReadOnlyList<IWebhookProvider> Sources { get; } = [.. All.SelectMany(i => i.Sources)];

    /// <summary>Every destination type, in registration order.</summary>
    public static IReadOnlyList<DestinationDescriptor> Destinations { get; } = [.. All.Select(i => i.Destination).OfType<DestinationDescriptor>()];

    /// <summary>Every notifier type that posts to a URL.</summary>
    public static IReadOnlyList<NotifierDescriptor> Notifiers { get; } = [.. All.Select(i => i.Notifier).OfType<NotifierDescriptor>()];

    /// <summary>Every subscriber export <c>junction import --from</c> reads, besides the generic CSV.</summary>
    public static IReadOnlyList<Import.SubscriberExport> SubscriberExports { get; } = [.. All.Select(i => i.SubscriberExport).OfType<Import.SubscriberExport>()];

    public static DestinationDescriptor? Destination(string type) => Destinations.FirstOrDefault(d => d.Type.Equals(type, StringComparison.Ordinal));

    public static NotifierDescriptor? Notifier(string type) => Notifiers.FirstOrDefault(n => n.Type.Equals(type, StringComparison.Ordinal));
}
