using Junction.Providers;

namespace Junction.Integrations.Paddle;

/// <summary>Paddle Billing notifications (transactions, adjustments, subscriptions).</summary>
public sealed class PaddleIntegration : IIntegration
{
    public string Name => "Paddle";

    public IWebhookProvider? Source { get; } = new PaddleProvider();
}
