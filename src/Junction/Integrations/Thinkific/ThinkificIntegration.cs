using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.Thinkific;

/// <summary>Thinkific webhooks (orders, enrollments).</summary>
public sealed class ThinkificIntegration : IIntegration
{
    public string Name => "Thinkific";

    public IWebhookProvider? Source { get; } = new ThinkificProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = ThinkificDestination.Type,
        Traits = DestinationTraits.Enrollments,
        DefaultBaseUrl = ThinkificDestination.DefaultBaseUrl,
        Credentials = ThinkificDestination.Credentials,
        DefaultRate = ThinkificDestination.DefaultRate,
        Maps = ["fields", "courses"],
        RequiredOptions = ThinkificDestination.RequiredOptions,
        OptionalOptions = ThinkificDestination.OptionalOptions,
        Connector = ThinkificDestination.CreateConnector,
        ReadBack = ThinkificDestination.CreateReadBack,
    };
}
