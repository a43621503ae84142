using Junction.Providers;

namespace Junction.Integrations.Stripe;

/// <summary>Stripe: webhooks (signed, mapped, enriched), backfill from the events list, payment read-back for the audit, and simulated test-mode purchases for the smoke run and the demo.</summary>
public sealed class StripeIntegration : IIntegration
{
    public string Name => "Stripe";

    public IWebhookProvider? Source { get; } = new StripeProvider();
}
