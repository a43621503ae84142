using Junction.Providers;

namespace Junction.Integrations.Zoom;

/// <summary>Zoom webinar registrations and attendance.</summary>
public sealed class ZoomIntegration : IIntegration
{
    public string Name => "Zoom";

    public IWebhookProvider? Source { get; } = new ZoomProvider();
}
