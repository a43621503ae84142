using Junction.Providers;

namespace Junction.Integrations.Acuity;

/// <summary>Acuity Scheduling appointments, enriched from its API.</summary>
public sealed class AcuityIntegration : IIntegration
{
    public string Name => "Acuity";

    public IWebhookProvider? Source { get; } = new AcuityProvider();
}
