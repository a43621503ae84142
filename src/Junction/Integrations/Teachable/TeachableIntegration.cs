using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.Teachable;

/// <summary>Teachable: school webhooks in, and users and course enrollments out, read back for the audit.</summary>
public sealed class TeachableIntegration : IIntegration
{
    public string Name => "Teachable";

    public IWebhookProvider? Source { get; } = new TeachableProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = "teachable",
        Traits = DestinationTraits.Enrollments with { Erases = true },
        DefaultBaseUrl = "https://developers.teachable.com",
        Credentials = ["api_key"],
        // 360 requests / minute per school (docs.teachable.com/docs/rate-limits-1).
        DefaultRate = 6,
        Maps = ["fields", "courses"],
        Connector = (config, http, time) => new TeachableConnector(config, http, time),
        ReadBack = (config, http, time) => new TeachableReadBack(config, http, time),
    };
}
