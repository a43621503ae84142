using Junction.Providers;

namespace Junction.Integrations.Kajabi;

/// <summary>Kajabi webhooks (purchases, offers granted).</summary>
public sealed class KajabiIntegration : IIntegration
{
    public string Name => "Kajabi";

    public IWebhookProvider? Source { get; } = new KajabiProvider();
}
