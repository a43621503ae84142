using Junction.Providers;

namespace Junction.Integrations.Thinkific;

/// <summary>Thinkific webhooks (orders, enrollments).</summary>
public sealed class ThinkificIntegration : IIntegration
{
    public string Name => "Thinkific";

    public IWebhookProvider? Source { get; } = new ThinkificProvider();
}
