using Junction.Providers;

namespace Junction.Integrations.StandardWebhooks;

/// <summary>Any sender of Standard Webhooks (standardwebhooks.com): signed events in Junction's own shape.</summary>
public sealed class StandardWebhooksIntegration : IIntegration
{
    public string Name => "StandardWebhooks";

    public IWebhookProvider? Source { get; } = new StandardWebhooksProvider();
}
