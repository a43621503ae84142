using Junction.Providers;

namespace Junction.Integrations.PayPal;

/// <summary>PayPal: REST webhooks (certificate-verified) with backfill and payment read-back from the webhook events list, and the classic Instant Payment Notification (verified by post-back).</summary>
public sealed class PayPalIntegration : IIntegration
{
    public string Name => "PayPal";

    public IWebhookProvider? Source { get; } = new PayPalProvider();

    public IReadOnlyList<IWebhookProvider> Sources => [Source!, Ipn];

    private static readonly PayPalIpnProvider Ipn = new();
}
