using Junction.Providers;

namespace Junction.Integrations.Calendly;

/// <summary>Calendly bookings (invitee created and canceled).</summary>
public sealed class CalendlyIntegration : IIntegration
{
    public string Name => "Calendly";

    public IWebhookProvider? Source { get; } = new CalendlyProvider();
}
